/**
 * Reads the package's public API out of lib/ with the TypeScript compiler, for the documentation
 * tests: every exported name, the members of the public interfaces (with their TSDoc and
 * `@default`), and the members of the SessionErrorCode union (with their TSDoc comments).
 */
import { join } from 'node:path';
import ts from 'typescript';
import { REPO } from './consumer-projects';

/** One documented thing: its name and the TSDoc text found for it ('' when there is none). */
export interface ApiItem {
  readonly name: string;
  readonly doc: string;
  /** The `@default` tag's text, when there is one. */
  readonly defaultValue?: string;
}

/** The public API as the compiler sees it from lib/index.ts. */
export interface PublicApi {
  /** Every name lib/index.ts exports, values and types. */
  readonly exports: ApiItem[];
  /** The properties and methods of an exported interface or class, by exported name. */
  members(exportName: string): ApiItem[];
  /** The string literals of the SessionErrorCode union, each with the comment above it. */
  readonly errorCodes: ApiItem[];
}

function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): ApiItem {
  const doc = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const tag = symbol.getJsDocTags(checker).find((t) => t.name === 'default');
  const defaultValue = tag?.text ? ts.displayPartsToString(tag.text).trim() : undefined;
  return { name: symbol.getName(), doc, ...(defaultValue === undefined ? {} : { defaultValue }) };
}

/** Compiles lib/ (no emit) and reads its public API. */
export function readPublicApi(): PublicApi {
  const entry = join(REPO, 'lib/index.ts');
  const program = ts.createProgram([entry], { strict: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, noEmit: true, types: ['node'] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const resolved = new Map<string, ts.Symbol>();
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    resolved.set(exported.getName(), target);
  }

  const members = (exportName: string): ApiItem[] => {
    const symbol = resolved.get(exportName);
    if (!symbol) throw new Error(`lib/index.ts does not export ${exportName}`);
    return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))
      .filter((property) => !property.getName().startsWith('__') && !(property.flags & ts.SymbolFlags.Prototype))
      .filter((property) => property.declarations?.some((d) => !d.getSourceFile().fileName.includes('/node_modules/')))
      .map((property) => docOf(property, checker));
  };

  const codeAlias = resolved.get('SessionErrorCode')!.declarations!.find(ts.isTypeAliasDeclaration)!;
  const text = codeAlias.getSourceFile().getFullText();
  let previousEnd = codeAlias.name.end;
  const errorCodes = (codeAlias.type as ts.UnionTypeNode).types.map((member) => {
    // The comment stands before the member's `|`, so look between the previous member and this one.
    const between = text.slice(previousEnd, member.getStart());
    previousEnd = member.end;
    const comments = [...between.matchAll(/\/\*\*([\s\S]*?)\*\//g)];
    const literal = (member as ts.LiteralTypeNode).literal as ts.StringLiteral;
    return { name: literal.text, doc: comments.length ? comments[comments.length - 1]![1]!.replace(/^\s*\*/gm, '').trim() : '' };
  });

  return { exports: [...resolved].map(([name, symbol]) => ({ ...docOf(symbol, checker), name })), members, errorCodes };
}
