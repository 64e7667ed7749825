/**
 * The import rules of docs/architecture.md ("What each part may import"),
 * checked rather than hoped for: every `.ts` file under `src/` is read, its
 * imports are parsed, and each rule below is one test that lists every file
 * and import breaking it.
 *
 * The parser is a small tokenizer, not a regular expression over the text:
 * it skips comments, strings, template literals and regular-expression
 * literals, so an import spread over several lines is found and one quoted
 * in a comment is not. (The installed TypeScript is the native compiler,
 * which ships no in-process parser to ask.) It finds static
 * `import … from`, `export … from`, side-effect `import '…'` and dynamic
 * `import('…')` with a literal specifier.
 *
 * Type-only means erased from the JavaScript: `import type …`, `export type …`,
 * and `typeof import('…')`. Under this project's `verbatimModuleSyntax`,
 * `import { type A } from '…'` still loads the module (it becomes
 * `import {} from '…'`), so it counts as a runtime import: write `import type`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

// ---------------------------------------------------------------------------
// Tokens

type TokenKind = 'name' | 'string' | 'template' | 'regex' | 'number' | 'punct';

interface Token {
  kind: TokenKind;
  /** For strings, the value between the quotes (escapes resolved); otherwise the source text. */
  value: string;
  line: number;
  start: number;
  end: number;
}

/** After these words a `/` starts a regular expression; after any other name it divides. */
const BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

function regexMayStart(previous: Token | undefined): boolean {
  if (!previous) return true;
  switch (previous.kind) {
    case 'name':
      return BEFORE_EXPRESSION.has(previous.value);
    case 'punct':
      return previous.value !== ')' && previous.value !== ']' && previous.value !== '}';
    default:
      return false;
  }
}

const NAME_START = /[A-Za-z_$\p{ID_Start}]/u;
const NAME_PART = /[A-Za-z0-9_$\p{ID_Continue}\u200c\u200d]/u;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // What each open `{` belongs to: code, or a template literal's `${`.
  const braces: Array<'code' | 'template'> = [];
  let i = 0;
  let line = 1;

  const newlinesIn = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (source[k] === '\n') line++;
  };
  /** Scans template text from `from` up to its closing backtick or the next `${`. */
  const templateText = (from: number, startLine: number): number => {
    let k = from;
    while (k < source.length) {
      const c = source[k];
      if (c === '\\') k += 2;
      else if (c === '`') {
        newlinesIn(from, k);
        tokens.push({ kind: 'template', value: source.slice(from, k), line: startLine, start: from, end: k + 1 });
        return k + 1;
      } else if (c === '$' && source[k + 1] === '{') {
        newlinesIn(from, k);
        braces.push('template');
        tokens.push({ kind: 'template', value: source.slice(from, k), line: startLine, start: from, end: k + 2 });
        return k + 2;
      } else k++;
    }
    throw new Error(`unterminated template literal at line ${startLine}`);
  };

  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end === -1) throw new Error(`unterminated comment at line ${line}`);
      newlinesIn(i, end);
      i = end + 2;
    } else if (c === '"' || c === "'") {
      let k = i + 1;
      let value = '';
      while (k < source.length && source[k] !== c) {
        if (source[k] === '\n') throw new Error(`unterminated string at line ${line}`);
        if (source[k] === '\\') {
          value += source[k + 1] ?? '';
          k += 2;
        } else value += source[k++];
      }
      tokens.push({ kind: 'string', value, line, start: i, end: k + 1 });
      i = k + 1;
    } else if (c === '`') {
      i = templateText(i + 1, line);
    } else if (c === '}' && braces.at(-1) === 'template') {
      braces.pop();
      i = templateText(i + 1, line);
    } else if (c === '/' && regexMayStart(tokens.at(-1))) {
      let k = i + 1;
      let inClass = false;
      while (k < source.length && (inClass || source[k] !== '/')) {
        if (source[k] === '\n') throw new Error(`unterminated regular expression at line ${line}`);
        if (source[k] === '\\') k++;
        else if (source[k] === '[') inClass = true;
        else if (source[k] === ']') inClass = false;
        k++;
      }
      k++;
      while (k < source.length && /[a-z]/.test(source[k]!)) k++;
      tokens.push({ kind: 'regex', value: source.slice(i, k), line, start: i, end: k });
      i = k;
    } else if (NAME_START.test(c)) {
      let k = i + 1;
      while (k < source.length && NAME_PART.test(source[k]!)) k++;
      tokens.push({ kind: 'name', value: source.slice(i, k), line, start: i, end: k });
      i = k;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      let k = i + 1;
      while (k < source.length && /[0-9A-Za-z_.]/.test(source[k]!)) k++;
      tokens.push({ kind: 'number', value: source.slice(i, k), line, start: i, end: k });
      i = k;
    } else {
      if (c === '{') braces.push('code');
      else if (c === '}') braces.pop();
      tokens.push({ kind: 'punct', value: c, line, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------
// Imports

interface ImportRef {
  specifier: string;
  line: number;
  /** Erased from the JavaScript: nothing is loaded at run time. */
  typeOnly: boolean;
  /** The statement or call, on one line, for messages. */
  text: string;
}

const isName = (token: Token | undefined, value?: string) =>
  token?.kind === 'name' && (value === undefined || token.value === value);
const isPunct = (token: Token | undefined, value: string) => token?.kind === 'punct' && token.value === value;

/** Tokens that put a following `import('…')` in a type, e.g. `let t: import('./x.ts').T`. */
const BEFORE_TYPE = new Set(['typeof', 'keyof', 'extends', '<', '|', '&']);

function parseImports(source: string): ImportRef[] {
  const tokens = tokenize(source);
  const found: ImportRef[] = [];
  const textOf = (from: number, to: number) =>
    source.slice(tokens[from]!.start, tokens[to]!.end).replace(/\s+/g, ' ').replace(/\{ /g, '{ ');

  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    const previous = tokens[k - 1];
    if (!isName(token, 'import') && !isName(token, 'export')) continue;
    if (isPunct(previous, '.')) continue; // a property named `import`

    // import('…'): a dynamic import, or an import type in a type position.
    if (isName(token, 'import') && isPunct(tokens[k + 1], '(')) {
      const specifier = tokens[k + 2];
      const after = tokens[k + 3];
      if (specifier?.kind !== 'string' || !(isPunct(after, ')') || isPunct(after, ','))) continue;
      const close = isPunct(after, ')') ? k + 3 : tokens.findIndex((t, j) => j > k + 3 && isPunct(t, ')'));
      const member = tokens[close + 1];
      const memberName = tokens[close + 2];
      const inType =
        (previous !== undefined && BEFORE_TYPE.has(previous.value)) ||
        // `: import('…').Name` annotates; `: import('…').then(…)` in a ternary runs.
        (isPunct(previous, ':') &&
          isPunct(member, '.') &&
          !['then', 'catch', 'finally'].includes(memberName?.value ?? ''));
      found.push({ specifier: specifier.value, line: token.line, typeOnly: inType, text: textOf(k, close) });
      continue;
    }

    // import '…';
    if (isName(token, 'import') && tokens[k + 1]?.kind === 'string') {
      found.push({ specifier: tokens[k + 1]!.value, line: token.line, typeOnly: false, text: textOf(k, k + 1) });
      continue;
    }
    if (isName(token, 'import') && isPunct(tokens[k + 1], '.')) continue; // import.meta

    // import … from '…' / export … from '…'
    const statement = fromClause(tokens, k);
    if (statement === undefined) continue;
    const { from, typeOnly } = statement;
    found.push({ specifier: tokens[from + 1]!.value, line: token.line, typeOnly, text: textOf(k, from + 1) });
    k = from + 1;
  }
  return found;
}

/**
 * The clause of `import`/`export` at `k`, up to `from '…'`: the index of `from`, and
 * whether the whole statement is `import type`/`export type`. Undefined when
 * the statement imports nothing (`export const …`, `export { a };`).
 *   import [type] Default [, { … } | , * as ns] from '…'
 *   import [type] { … } | * as ns from '…'
 *   export [type] { … } | * [as ns] from '…'
 */
function fromClause(tokens: readonly Token[], k: number): { from: number; typeOnly: boolean } | undefined {
  const importing = tokens[k]!.value === 'import';
  let j = k + 1;
  let typeOnly = false;
  const next = tokens[j + 1];
  // `type` is the modifier unless it is itself the default binding (`import type from '…'`).
  if (isName(tokens[j], 'type') && !(isName(next, 'from') && tokens[j + 2]?.kind === 'string')) {
    typeOnly = true;
    j++;
  }
  if (importing && isName(tokens[j]) && !isName(tokens[j], 'from')) {
    j++; // the default binding
    if (!isPunct(tokens[j], ',')) return atFrom(tokens, j, typeOnly);
    j++;
  }
  if (isPunct(tokens[j], '*')) {
    j++;
    if (isName(tokens[j], 'as') && isName(tokens[j + 1])) j += 2;
    return atFrom(tokens, j, typeOnly);
  }
  if (!isPunct(tokens[j], '{')) return undefined;
  for (j++; j < tokens.length && !isPunct(tokens[j], '}'); j++) {
    if (!isName(tokens[j]) && !isPunct(tokens[j], ',') && tokens[j]!.kind !== 'string') return undefined;
  }
  return atFrom(tokens, j + 1, typeOnly);
}

function atFrom(
  tokens: readonly Token[],
  j: number,
  typeOnly: boolean,
): { from: number; typeOnly: boolean } | undefined {
  return isName(tokens[j], 'from') && tokens[j + 1]?.kind === 'string' ? { from: j, typeOnly } : undefined;
}

// ---------------------------------------------------------------------------
// Parts and rules

type Part = 'entry' | 'cli' | 'http' | 'domain' | 'store' | 'migrations' | 'schemas' | 'lib' | 'outside';

/** The part of the app a path (relative to the repository root) belongs to. */
function partOf(path: string): Part {
  if (!path.startsWith('src/')) return 'outside';
  const inSrc = path.slice('src/'.length);
  if (inSrc.startsWith('store/migrations/')) return 'migrations';
  const [first, ...rest] = inSrc.split('/');
  if (rest.length === 0) return 'entry';
  switch (first) {
    case 'cli':
    case 'http':
    case 'domain':
    case 'store':
    case 'schemas':
    case 'lib':
      return first;
    default:
      return 'entry';
  }
}

interface Edge extends ImportRef {
  /** The importing file, relative to the repository root. */
  file: string;
  /** The imported file, relative to the repository root. */
  target: string;
  from: Part;
  to: Part;
}

/** The app-internal imports of some files: relative specifiers only (packages and `node:` are not the app's). */
function edgesOf(files: ReadonlyMap<string, string>): Edge[] {
  const edges: Edge[] = [];
  for (const [file, source] of files) {
    for (const ref of parseImports(source)) {
      if (!ref.specifier.startsWith('.')) continue;
      const target = join(dirname(file), ref.specifier);
      edges.push({ ...ref, file, target, from: partOf(file), to: partOf(target) });
    }
  }
  return edges;
}

interface Rule {
  name: string;
  /** Why, in the words of docs/architecture.md. */
  why: string;
  breaks(edge: Edge): boolean;
}

const store = (part: Part) => part === 'store' || part === 'migrations';
const appCode = (part: Part) => part !== 'outside';

const RULES: Rule[] = [
  {
    name: 'http/ never imports store/, not even its types',
    why: 'routes reach data through domain services and see domain types only',
    breaks: (e) => e.from === 'http' && store(e.to),
  },
  {
    name: 'store/ never imports http/',
    why: 'the store knows nothing of requests',
    breaks: (e) => store(e.from) && e.to === 'http',
  },
  {
    name: 'domain/ never imports http/',
    why: 'the rules hold without Fastify, for the CLI and the seed loader too',
    breaks: (e) => e.from === 'domain' && e.to === 'http',
  },
  {
    name: 'schemas/ import none of store/, http/ and domain/',
    why: 'the API contract stands on its own',
    breaks: (e) => e.from === 'schemas' && (store(e.to) || e.to === 'http' || e.to === 'domain'),
  },
  {
    name: 'lib/ imports nothing of the app outside lib/',
    why: 'infrastructure knows nothing of the product',
    breaks: (e) => e.from === 'lib' && appCode(e.to) && e.to !== 'lib',
  },
  {
    name: 'store/ imports domain/ only with `import type`',
    why: 'rows map to domain types, but the store runs no domain code',
    breaks: (e) => e.from === 'store' && e.to === 'domain' && !e.typeOnly,
  },
  {
    name: 'store/migrations/ import nothing of the app outside store/migrations/',
    why: 'migrations are frozen in time: a later change to app code must not change an old migration',
    breaks: (e) => e.from === 'migrations' && appCode(e.to) && e.to !== 'migrations',
  },
];

function violations(rule: Rule, edges: readonly Edge[]): string[] {
  return edges
    .filter((edge) => rule.breaks(edge))
    .map((e) => `${e.file}:${e.line}  ${e.text}${e.typeOnly ? '  (type-only)' : ''}`);
}

function assertKept(rule: Rule, edges: readonly Edge[]): void {
  const found = violations(rule, edges);
  if (found.length === 0) return;
  assert.fail(
    `${found.length === 1 ? '1 import breaks' : `${found.length} imports break`} "${rule.name}" (${rule.why}; docs/architecture.md):\n  ${found.join('\n  ')}`,
  );
}

function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(SRC, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(ROOT, path).split('\\').join('/'), readFileSync(path, 'utf8'));
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const rule = (name: string) => RULES.find((r) => r.name.startsWith(name))!;

// ---------------------------------------------------------------------------
// The tree

describe('import rules (docs/architecture.md)', () => {
  const files = sourceFiles();
  const edges = edgesOf(files);

  test('the parser reads every source file, and every relative import names a file that exists', () => {
    assert.ok(files.size > 50, `only ${files.size} files under src/`);
    assert.ok(
      edges.some((e) => e.file === 'src/app.ts' && e.to === 'http'),
      'src/app.ts imports no route plugin: the parser is broken',
    );
    const missing = edges.filter((e) => !existsSync(join(ROOT, e.target))).map((e) => `${e.file}:${e.line}  ${e.text}`);
    assert.deepEqual(missing, [], 'imports that name no file: the parser misread them');
  });

  for (const r of RULES) test(r.name, () => assertKept(r, edges));
});

// ---------------------------------------------------------------------------
// The parser, on strings

describe('the import parser', () => {
  const at = (file: string, source: string) => edgesOf(new Map([[file, source]]));

  test('finds an import spread over several lines', () => {
    const source = "import {\n  a,\n  b,\n} from '../store/x.ts';\n";
    assert.deepEqual(parseImports(source), [
      { specifier: '../store/x.ts', line: 1, typeOnly: false, text: "import { a, b, } from '../store/x.ts'" },
    ]);
    assert.deepEqual(violations(rule('http/'), at('src/http/route.ts', source)), [
      "src/http/route.ts:1  import { a, b, } from '../store/x.ts'",
    ]);
  });

  test('store/ → domain/: `import type` passes, a runtime import fails', () => {
    const storeToDomain = rule('store/ imports domain/');
    const typeOnly =
      "import type {\n  User,\n} from '../domain/users.ts';\nexport type { App } from '../domain/apps.ts';\n";
    assert.deepEqual(violations(storeToDomain, at('src/store/users.ts', typeOnly)), []);
    const runtime =
      "import { isAdmin } from '../domain/principal.ts';\nimport { type Site } from '../domain/site.ts';\n";
    assert.deepEqual(violations(storeToDomain, at('src/store/users.ts', runtime)), [
      "src/store/users.ts:1  import { isAdmin } from '../domain/principal.ts'",
      // Kept as `import {} from …` under verbatimModuleSyntax: it loads the module.
      "src/store/users.ts:2  import { type Site } from '../domain/site.ts'",
    ]);
    // http/ → store/ is refused even for types.
    assert.equal(violations(rule('http/'), at('src/http/x.ts', typeOnly.replace(/domain/g, 'store'))).length, 2);
  });

  test('every form of import and re-export, and nothing in comments, strings or regular expressions', () => {
    const source = [
      '/** import { a } from "../store/in-a-comment.ts" */',
      "// export * from '../store/in-a-line-comment.ts';",
      'const text = "import { b } from \'../store/in-a-string.ts\'";',
      'const pattern = /[\'"`]/g; const half = 1 / 2; // a regex with quotes, then a division',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text for the parser, not a template
      "const template = `import { c } from '../store/in-a-template.ts' ${text + `nested ${half}`}`;",
      "import Default, * as everything from './a.ts';",
      "import Named, { x as y } from './b.ts';",
      "import './side-effect.ts';",
      "export * from './c.ts';",
      "export * as d from './d.ts';",
      "export { e } from './e.ts';",
      "export type { F } from './f.ts';",
      "import type G from './g.ts';",
      "const lazy = await import('./h.ts');",
      "type I = typeof import('./i.ts');",
      "let j: import('./j.ts').J;",
      'export const notAnImport = { from: "./k.ts" };',
      'export { pattern, template };',
      'console.log(import.meta.url);',
    ].join('\n');
    assert.deepEqual(
      parseImports(source).map(({ specifier, line, typeOnly }) => [specifier, line, typeOnly]),
      [
        ['./a.ts', 6, false],
        ['./b.ts', 7, false],
        ['./side-effect.ts', 8, false],
        ['./c.ts', 9, false],
        ['./d.ts', 10, false],
        ['./e.ts', 11, false],
        ['./f.ts', 12, true],
        ['./g.ts', 13, true],
        ['./h.ts', 14, false],
        ['./i.ts', 15, true],
        ['./j.ts', 16, true],
      ],
    );
  });

  test('resolves paths into parts: migrations apart from the store, top-level files as entry points', () => {
    const source = "import { a } from '../../domain/x.ts';\nimport { b } from './0001-initial.ts';\n";
    const edges = at('src/store/migrations/0002-next.ts', source);
    assert.deepEqual(
      edges.map((e) => [e.target, e.to]),
      [
        ['src/domain/x.ts', 'domain'],
        ['src/store/migrations/0001-initial.ts', 'migrations'],
      ],
    );
    assert.equal(violations(rule('store/migrations/'), edges).length, 1);
    assert.equal(partOf('src/app.ts'), 'entry');
    assert.equal(partOf('src/lib/ttl-cache.ts'), 'lib');
  });
});
