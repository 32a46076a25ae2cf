// The README's Inputs and Outputs tables must say what action.yml says.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import * as yaml from 'js-yaml';

interface ActionYaml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post: string };
}

const action = yaml.load(fs.readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as ActionYaml;
const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows `| \`name\` | … |` of the table under a `## heading`. */
function tableRows(heading: string): string[][] {
  const section = readme.split(/^## /m).find((part) => part.startsWith(`${heading}\n`)) ?? '';
  return section
    .split('\n')
    .filter((line) => /^\| `[a-z-]+` \|/.test(line))
    .map((line) => line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
}

describe('README matches action.yml', () => {
  it('runs on node24, main and post from the one bundle', () => {
    assert.deepEqual(action.runs, { using: 'node24', main: 'dist/index.js', post: 'dist/index.js' });
  });

  it('lists every input, in order, with its default and description', () => {
    const rows = tableRows('Inputs');
    assert.deepEqual(rows.map((row) => row[0]), Object.keys(action.inputs).map((name) => `\`${name}\``));
    for (const [name, input] of Object.entries(action.inputs)) {
      const row = rows.find((cells) => cells[0] === `\`${name}\``) ?? [];
      const expectedDefault = input.required ? '**required**' : input.default ? `\`${input.default}\`` : '';
      assert.equal(row[1], expectedDefault, `default of ${name}`);
      assert.equal(row[2]?.replace(/\\\|/g, '|'), input.description, `description of ${name}`);
    }
  });

  it('lists every output with its description', () => {
    const rows = tableRows('Outputs');
    assert.deepEqual(rows.map((row) => [row[0], row[1]]), Object.entries(action.outputs).map(([name, output]) => [`\`${name}\``, output.description]));
  });
});

describe('action.yml fits the Marketplace', () => {
  it('has a description of at most 125 characters', () => {
    const { description } = yaml.load(fs.readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as { description: string };
    assert.ok(description.length <= 125, `${description.length} characters`);
  });
});
