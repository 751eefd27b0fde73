/**
 * The documentation matches the code: every public name, option, method and error code has TSDoc,
 * and README.md documents each of them, with option defaults and error statuses as in the code.
 * README format this relies on (tables, one row per item, first cell in backticks):
 * - options, in a section whose heading contains "Options": `| \`idleTimeout\` | type | default | meaning |`,
 *   cookie settings as `| \`cookie.name\` | ...`; the row contains the `@default` value of the TSDoc;
 * - error codes, in a section whose heading contains "Error codes": `| \`SESSION_MISSING\` | 401 | meaning |`; the row contains the HTTP status;
 * - every other public name (exports, manager methods, `req.session` members, `onReject`) in inline code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusOf, type SessionErrorCode } from '../../lib/errors';
import { REPO } from './consumer-projects';
import { readPublicApi, type ApiItem } from './public-api';

const api = readPublicApi();
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const TABLE_ROW = /^\|\s*`([^`]+)`\s*\|/;

/** The table rows (by their first cell's name) in the sections whose heading matches `heading`. */
function tableRows(heading: RegExp | null, repeated: string[] = []): Map<string, string> {
  const rows = new Map<string, string>();
  let sectionLevel = 0;
  for (const line of readme.split('\n')) {
    const title = /^(#{1,6})\s+(.*)$/.exec(line);
    if (title) {
      const level = title[1]!.length;
      if (heading && heading.test(title[2]!)) sectionLevel = level;
      else if (level <= sectionLevel) sectionLevel = 0;
      continue;
    }
    const row = TABLE_ROW.exec(line);
    if (row && (heading === null || sectionLevel > 0)) {
      if (rows.has(row[1]!)) repeated.push(row[1]!);
      rows.set(row[1]!, line);
    }
  }
  return rows;
}

/** Inline code spans outside fenced code blocks. */
const inlineCode = readme
  .replace(/^```[\s\S]*?^```/gm, '')
  .match(/`[^`\n]+`/g) ?? [];

function mentioned(name: string): boolean {
  const word = new RegExp(`(^|[^\\w$])${name.replace(/[$]/g, '\\$')}([^\\w$]|$)`);
  return inlineCode.some((span) => word.test(span.slice(1, -1)));
}

const undocumented = (items: ApiItem[]): string[] => items.filter((item) => item.doc === '').map((item) => item.name);

const repeatedOptionRows: string[] = [];
const optionRows = tableRows(/options/i, repeatedOptionRows);
const codeRows = new Map([...tableRows(/Error codes/i)].filter(([name]) => /^[A-Z][A-Z_]+$/.test(name)));
const options = api.members('SessionManagerOptions');
const cookieOptions = api.members('CookieOptions').map((item) => ({ ...item, name: `cookie.${item.name}` }));
const liveOptions = api.members('LiveEventsOptions');

describe('TSDoc', () => {
  test('every exported name has a TSDoc comment', () => {
    expect(api.exports.length).toBeGreaterThan(5);
    expect(undocumented(api.exports)).toEqual([]);
  });

  test.each(['SessionManagerOptions', 'CookieOptions', 'RequireSessionOptions', 'LiveEventsOptions', 'SessionManager', 'SessionInfo', 'SessionError'])(
    'every member of %s has a TSDoc comment',
    (name) => {
      expect(api.members(name).length).toBeGreaterThan(0);
      expect(undocumented(api.members(name))).toEqual([]);
    },
  );

  test('every SessionErrorCode has a TSDoc comment', () => {
    expect(api.errorCodes.length).toBeGreaterThan(5);
    expect(undocumented(api.errorCodes)).toEqual([]);
  });
});

describe('README.md', () => {
  test('names every export of the package in inline code', () => {
    expect(api.exports.map((item) => item.name).filter((name) => !mentioned(name))).toEqual([]);
  });

  test('has an options row for every option and cookie setting, showing its default', () => {
    const missing = [...options.filter((item) => item.name !== 'cookie'), ...cookieOptions].filter((item) => !optionRows.has(item.name));
    expect(missing.map((item) => item.name)).toEqual([]);
    const wrongDefault = [...options, ...cookieOptions].filter((item) => {
      if (item.defaultValue === undefined || item.defaultValue === 'undefined') return false;
      const row = optionRows.get(item.name)!;
      return !row.includes(item.defaultValue) && !row.includes(item.defaultValue.replace(/'/g, '"'));
    });
    expect(wrongDefault.map((item) => `${item.name} (default ${item.defaultValue})`)).toEqual([]);
  });

  test('documents each option once (a second row would say something else about it)', () => {
    expect(repeatedOptionRows).toEqual([]);
  });

  test('lists no option in its options tables that the code does not have', () => {
    const known = new Set([...options, ...cookieOptions, ...api.members('RequireSessionOptions'), ...liveOptions].map((item) => item.name));
    expect([...optionRows.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  test('has a liveEvents() options row for every LiveEventsOptions member, showing its default', () => {
    expect(liveOptions.map((item) => item.name).sort()).toEqual(['heartbeatSeconds', 'maxStreamsPerSession']);
    const wrong = liveOptions.filter((item) => !optionRows.get(item.name)?.includes(item.defaultValue ?? ''));
    expect(wrong.map((item) => item.name)).toEqual([]);
  });

  test('has a row for every error code with its HTTP status, and no other code', () => {
    const codes = api.errorCodes.map((item) => item.name as SessionErrorCode);
    expect(codes.filter((code) => !codeRows.has(code))).toEqual([]);
    const cells = (code: SessionErrorCode): string[] => codeRows.get(code)!.split('|').map((cell) => cell.replace(/`/g, '').trim());
    expect(codes.filter((code) => !cells(code).includes(String(statusOf(code))))).toEqual([]);
    expect([...codeRows.keys()].filter((name) => !codes.includes(name as SessionErrorCode))).toEqual([]);
  });

  test('documents every manager method, requireSession option and req.session member in inline code', () => {
    const names = ['SessionManager', 'RequireSessionOptions', 'SessionInfo'].flatMap((name) => api.members(name).map((item) => item.name));
    expect(names.filter((name) => !mentioned(name))).toEqual([]);
  });
});
