import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { UserFacingError } from '../../src/errors.ts';
import { planKubeconfigFile, removeRecordedPaths, writeSecretFile } from '../../src/files.ts';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'files-'));
});
// Tests leave symlinks and 0700 folders behind on purpose; none outlives its test.
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('planKubeconfigFile', () => {
  it('plans a fresh, uniquely named folder under RUNNER_TEMP', () => {
    const first = planKubeconfigFile(undefined, root);
    const second = planKubeconfigFile(undefined, root);
    assert.notEqual(first.file, second.file);
    assert.match(first.file, new RegExp(`^${root}/sa-kubeconfig-[0-9a-f-]{36}/kubeconfig\\.yaml$`));
    assert.deepEqual(first.directories, [path.dirname(first.file)]);
  });
  it('plans the missing parents of a chosen path, outermost first', () => {
    const plan = planKubeconfigFile(path.join(root, 'a/b/config'), root);
    assert.deepEqual(plan.directories, [path.join(root, 'a'), path.join(root, 'a/b')]);
  });
  it('refuses to guess when RUNNER_TEMP is missing', () => {
    assert.throws(() => planKubeconfigFile(undefined, undefined), /RUNNER_TEMP is not set.*Set kubeconfig-path/);
  });
});

describe('writeSecretFile', () => {
  it('creates 0700 folders and a 0600 file, whatever the umask', () => {
    const previous = process.umask(0);
    try {
      const plan = planKubeconfigFile(path.join(root, 'x/config'), root);
      writeSecretFile(plan, 'secret');
      assert.equal(fs.statSync(plan.file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.join(root, 'x')).mode & 0o777, 0o700);
      assert.equal(fs.readFileSync(plan.file, 'utf8'), 'secret');
    } finally {
      process.umask(previous);
    }
  });
  it('never overwrites an existing file', () => {
    const file = path.join(root, 'config');
    fs.writeFileSync(file, 'theirs');
    assert.throws(() => writeSecretFile({ file, directories: [] }, 'ours'), (error: unknown) => error instanceof UserFacingError && /already exists/.test(error.message));
    assert.equal(fs.readFileSync(file, 'utf8'), 'theirs');
  });
  it('never follows a planted symlink, even a dangling one', () => {
    const target = path.join(root, 'target');
    const link = path.join(root, 'config');
    fs.symlinkSync(target, link);
    assert.throws(() => writeSecretFile({ file: link, directories: [] }, 'ours'), /is a symbolic link/);
    assert.equal(fs.existsSync(target), false);
  });
  it('removes the folders it made when the file cannot be created', () => {
    // A file name longer than the file system allows (ENAMETOOLONG) fails after the folders exist.
    const plan = planKubeconfigFile(path.join(root, 'a/b', 'n'.repeat(300)), root);
    assert.throws(() => writeSecretFile(plan, 'x'), /Could not write the kubeconfig to .* \(ENAMETOOLONG\)/);
    assert.deepEqual(fs.readdirSync(root), []);
  });
});

describe('removeRecordedPaths', () => {
  it('removes the file and its empty folder, and is idempotent', () => {
    const plan = planKubeconfigFile(undefined, root);
    writeSecretFile(plan, 'x');
    assert.deepEqual(removeRecordedPaths(plan).map((result) => result.outcome), ['removed', 'removed']);
    assert.deepEqual(removeRecordedPaths(plan).map((result) => result.outcome), ['already gone', 'already gone']);
    assert.deepEqual(fs.readdirSync(root), []);
  });
  it('refuses a symlink put where the file was, and a folder someone filled', () => {
    const plan = planKubeconfigFile(undefined, root);
    writeSecretFile(plan, 'x');
    fs.rmSync(plan.file);
    fs.writeFileSync(path.join(root, 'precious'), 'keep');
    fs.symlinkSync(path.join(root, 'precious'), plan.file);
    const results = removeRecordedPaths(plan);
    assert.deepEqual(results.map((result) => [result.outcome, result.detail]), [['refused', 'no longer a regular file'], ['refused', 'not empty']]);
    assert.equal(fs.readFileSync(path.join(root, 'precious'), 'utf8'), 'keep');
  });
  it('refuses relative paths', () => {
    assert.equal(removeRecordedPaths({ file: 'config', directories: [] })[0]?.outcome, 'refused');
  });
});
