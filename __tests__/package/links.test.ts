/**
 * Every link of the documentation resolves: each relative link and `#anchor` in README.md, docs/*.md,
 * SECURITY.md and demo-app/README.md points at a file of the repository and at a heading that file has (GitHub's
 * slug rules), and every link of README.md works where npm shows it: the tarball carries only what
 * package.json `files` lists, so README.md links to anything else by its absolute repository URL,
 * which must name a file or folder that exists, and a heading it has. package.json names that same
 * repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO } from './consumer-projects';

/** The repository every absolute link and package.json field names. */
const REPOSITORY_URL = 'https://github.com/express-single-session/express-single-session';
const packageJson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  files: string[];
  repository: { type: string; url: string };
  homepage: string;
  bugs: { url: string };
};

/** Markdown without fenced code blocks and inline code spans, where links are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The slug GitHub gives a heading (github-slugger): lower case, punctuation removed, spaces to hyphens. */
export function slugOf(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/[*`]/g, '');
  return text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a markdown file has: one per heading, repeated slugs numbered as GitHub numbers them. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = slugOf(match[1]!);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const match of withoutCode.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** Every link target of a markdown text: inline links and images, outside code. */
function linksOf(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[(?:[^\][]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
}

const DOCS = [
  'README.md',
  'SECURITY.md',
  'demo-app/README.md',
  ...readdirSync(join(REPO, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`),
];

/** What the packed tarball carries (npm always adds README, LICENSE and package.json). */
function isShipped(path: string): boolean {
  const shipped = [...packageJson.files, 'README.md', 'LICENSE', 'package.json'];
  return shipped.some((entry) => path === entry || path.startsWith(`${entry.replace(/\/$/, '')}/`));
}

/** Why a link from `file` does not resolve, or null when it does. */
function brokenBecause(file: string, target: string): string | null {
  if (/^mailto:/.test(target)) return null;
  const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
  let path: string;
  if (/^https?:/.test(target)) {
    if (!/^https?:\/\/(www\.)?github\.com\/[^/]+\/express-single-session(?:[/#.]|$)/.test(target)) return null; // another site
    const inRepo = new RegExp(`^${REPOSITORY_URL.replace(/[.]/g, '\\.')}(?:\\.git)?(?:/(blob|tree)/main/(.+))?/?$`).exec(pathPart);
    if (!inRepo) return `not the repository ${REPOSITORY_URL} (or not under /blob/main/ or /tree/main/)`;
    if (!inRepo[2]) return null; // the repository's front page
    path = decodeURIComponent(inRepo[2]);
    if (!existsSync(join(REPO, path))) return `${path} does not exist`;
    const isFolder = statSync(join(REPO, path)).isDirectory();
    if ((inRepo[1] === 'tree') !== isFolder) return `${path} is a ${isFolder ? 'folder: use /tree/main/' : 'file: use /blob/main/'}`;
  } else if (pathPart === '') {
    path = file;
  } else {
    path = relative(REPO, join(REPO, dirname(file), decodeURIComponent(pathPart)));
    if (path.startsWith('..')) return 'points outside the repository';
    if (!existsSync(join(REPO, path))) return `${path} does not exist`;
    if (file === 'README.md' && !isShipped(path)) return `npm does not ship ${path}: link ${REPOSITORY_URL}/blob/main/${path} instead`;
  }
  if (anchor === undefined) return null;
  if (!path.endsWith('.md')) return `an anchor into ${path}, which is not markdown`;
  return anchorsOf(readFileSync(join(REPO, path), 'utf8')).has(anchor) ? null : `${path} has no heading #${anchor}`;
}

test('the slugs are GitHub\'s', () => {
  expect(slugOf('Durable sign-ins: `waitForReplicas`')).toBe('durable-sign-ins-waitforreplicas');
  expect(slugOf('`requireSession()` and `requireRecentLogin()` options')).toBe('requiresession-and-requirerecentlogin-options');
  expect(slugOf('Why is `req.session` null?')).toBe('why-is-reqsession-null');
  expect(slugOf("express-session's names, here")).toBe('express-sessions-names-here');
  expect(slugOf('ASVS 5.0, chapter V7 (Session Management)')).toBe('asvs-50-chapter-v7-session-management');
  expect([...anchorsOf('# A\n\n## Options\n\n```md\n## Not a heading\n```\n\n### Options\n')]).toEqual(['a', 'options', 'options-1']);
});

test('the documentation has its guides', () => {
  expect(DOCS).toEqual(expect.arrayContaining([
    'docs/sessions.md', 'docs/live-sign-out.md', 'docs/local-cache.md', 'docs/scaling.md', 'docs/security.md',
    'docs/benchmarks.md', 'docs/how-it-works.md', 'docs/migrating.md', 'docs/faq.md', 'docs/debugging.md', 'docs/glossary.md',
  ]));
});

test.each(DOCS)('every link and anchor in %s resolves', (file) => {
  const links = linksOf(readFileSync(join(REPO, file), 'utf8'));
  expect(links.length).toBeGreaterThan(0);
  const broken = links.map((target) => [target, brokenBecause(file, target)]).filter(([, why]) => why !== null);
  expect(broken).toEqual([]);
});

test('README.md links to the guides with absolute repository URLs, so they work from npm', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const guides = DOCS.filter((file) => file.startsWith('docs/'));
  expect(guides.filter((file) => !readme.includes(`${REPOSITORY_URL}/blob/main/${file}`))).toEqual([]);
});

test('package.json names the same repository: repository, homepage and bugs', () => {
  expect(packageJson.repository).toEqual({ type: 'git', url: `git+${REPOSITORY_URL}.git` });
  expect(packageJson.homepage).toBe(`${REPOSITORY_URL}#readme`);
  expect(packageJson.bugs).toEqual({ url: `${REPOSITORY_URL}/issues` });
});

test('package.json\'s version is the newest version the CHANGELOG heads', () => {
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const newest = /^## \[(\d+\.\d+\.\d+)\]/m.exec(readFileSync(join(REPO, 'CHANGELOG.md'), 'utf8'));
  expect(newest?.[1]).toBe(version);
});
