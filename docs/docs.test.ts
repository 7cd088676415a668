/**
 * The README as a front door and docs/ as the rest: the README stays short and links every document, each
 * document opens with a summary of at most two lines, every relative link and anchor resolves, the
 * configuration reference names every variable the code reads, and no sentence is written in two places.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gatewayRoutes } from '../app/gateway.ts';
import { GATEWAY_VARIABLES, upstreamVariable } from '../app/gateway-config.ts';
import { manifest } from '../functions/manifest.ts';
import { CONFIG_VARIABLES } from '../runtime/config.ts';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const docs = readdirSync(new URL('docs/', root))
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`);
/** Documents a reader reaches from the README; each opens with a short summary. */
const summarised = [...docs, 'CONTRIBUTING.md', 'local/kafka-broker/README.md', 'infra/README.md'];
/** Where prose about the project lives: a sentence belongs in one of them only. */
const prose = ['README.md', ...summarised, 'db/README.md'];

/** Lines outside fenced code blocks. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('README.md', () => {
  const readme = read('README.md');

  it('is at most 150 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
  });

  it('links every document of docs/, the broker’s README and CONTRIBUTING.md', () => {
    for (const path of [...docs, 'local/kafka-broker/README.md', 'CONTRIBUTING.md']) {
      expect(readme, path).toContain(`](${path})`);
    }
  });
});

describe('docs', () => {
  it.each(summarised)('%s opens with its title and a summary of at most two lines', (path) => {
    const [title, blank, ...rest] = read(path).split('\n');
    expect(title).toMatch(/^# \S/);
    expect(blank).toBe('');
    const summary = rest.slice(0, rest.indexOf(''));
    expect(summary.length, summary.join('\n')).toBeGreaterThan(0);
    expect(summary.length, summary.join('\n')).toBeLessThanOrEqual(2);
  });

  it.each(prose)('%s: every relative link and anchor resolves', (path) => {
    const text = proseLines(read(path)).join('\n');
    const base = new URL(path, root);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [file, anchor] = target!.split('#');
      const url = file === '' ? base : new URL(file!, base);
      expect(existsSync(url), `${path} → ${target}`).toBe(true);
      if (anchor !== undefined) {
        const headings = [...readFileSync(url, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!));
        expect(headings, `${path} → ${target}`).toContain(anchor);
      }
    }
  });

  it('docs/configuration.md names every variable the code reads', () => {
    const reference = read('docs/configuration.md');
    const httpFunctionIds = [...new Set(gatewayRoutes(manifest).map((r) => r.functionId))];
    const variables = [...CONFIG_VARIABLES, 'FUNCTION_ID', 'LOG_FORMAT', ...GATEWAY_VARIABLES];
    expect(variables.filter((name) => !reference.includes(`\`${name}\``))).toEqual([]);
    expect(reference).toContain('`UPSTREAM_<FUNCTION_ID>`');
    for (const id of httpFunctionIds) expect(upstreamVariable(id)).toMatch(/^UPSTREAM_[A-Z0-9_]+$/);
  });

  it('states no sentence in two places (prose lines of 60 characters or more)', () => {
    const seen = new Map<string, string>();
    const repeated: string[] = [];
    for (const path of prose) {
      for (const raw of proseLines(read(path))) {
        const line = raw.trim();
        if (line.length < 60 || /^\|?[\s|:-]+\|?$/.test(line)) continue;
        const first = seen.get(line);
        if (first !== undefined && first !== path) repeated.push(`${first} and ${path}: ${line}`);
        seen.set(line, first ?? path);
      }
    }
    expect(repeated).toEqual([]);
  });
});
