import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from './errors.ts';

/** Paths one invocation will create; recorded before creation so cleanup can always find them. */
export interface FilePlan {
  readonly file: string;
  /** Folders that do not exist yet and will be created (mode 0700), outermost first. */
  readonly directories: readonly string[];
}

/**
 * A unique folder under RUNNER_TEMP (matrix legs, re-runs and several
 * invocations in one job never collide), or the path the user chose.
 */
export function planKubeconfigFile(kubeconfigPath: string | undefined, runnerTemp: string | undefined): FilePlan {
  if (kubeconfigPath !== undefined) {
    return { file: kubeconfigPath, directories: missingDirectories(path.dirname(kubeconfigPath)) };
  }
  if (!runnerTemp) {
    throw new UserFacingError('RUNNER_TEMP is not set, so there is nowhere private to write the kubeconfig. Set kubeconfig-path.');
  }
  const directory = path.join(path.resolve(runnerTemp), `sa-kubeconfig-${randomUUID()}`);
  return { file: path.join(directory, 'kubeconfig.yaml'), directories: [...missingDirectories(path.resolve(runnerTemp)), directory] };
}

function missingDirectories(directory: string): string[] {
  const missing: string[] = [];
  for (let current = directory; !fs.existsSync(current); current = path.dirname(current)) {
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  return missing;
}

/**
 * Creates the planned folders (0700) and the file (0600) exclusively: an
 * existing file is never overwritten and a planted symlink is never followed.
 * On any failure, removes what it created, so nothing half-written remains.
 */
export function writeSecretFile(plan: FilePlan, content: string): void {
  const created: string[] = [];
  try {
    for (const directory of plan.directories) {
      fs.mkdirSync(directory, { mode: 0o700 });
      created.push(directory);
    }
    writeExclusive(plan.file, content);
  } catch (error) {
    for (const directory of created.reverse()) fs.rmdirSync(directory);
    if (error instanceof UserFacingError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new UserFacingError(`Could not write the kubeconfig to ${plan.file} (${code}). Choose a writable kubeconfig-path.`);
  }
}

function writeExclusive(file: string, content: string): void {
  let descriptor: number;
  try {
    const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
    descriptor = fs.openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST' || (error as NodeJS.ErrnoException).code === 'ELOOP') {
      const what = fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() ? 'is a symbolic link, which this action never follows' : 'already exists, and this action never overwrites a file';
      throw new UserFacingError(`The kubeconfig path ${file} ${what}. Remove it or choose another kubeconfig-path.`);
    }
    throw error;
  }
  try {
    if (!fs.fstatSync(descriptor).isFile()) throw new UserFacingError(`The kubeconfig path ${file} is not a regular file.`);
    // The mode given to open() is reduced by the umask; make it exact.
    fs.fchmodSync(descriptor, 0o600);
    fs.writeFileSync(descriptor, content);
    fs.closeSync(descriptor);
  } catch (error) {
    fs.closeSync(descriptor);
    fs.rmSync(file, { force: true });
    throw error;
  }
}

/** What removing one recorded path came to; problems are reported, never thrown. */
export interface RemovalResult {
  readonly path: string;
  readonly outcome: 'removed' | 'already gone' | 'refused' | 'failed';
  readonly detail?: string;
}

/**
 * Removes exactly the recorded files, then the recorded folders if empty.
 * Refuses anything that is not what was written: a symlink, a folder where a
 * file was, a relative path. Safe to run twice.
 */
export function removeRecordedPaths(plan: FilePlan): RemovalResult[] {
  const results: RemovalResult[] = [removeFile(plan.file)];
  for (const directory of [...plan.directories].reverse()) results.push(removeDirectory(directory));
  return results;
}

function removeFile(file: string): RemovalResult {
  if (!path.isAbsolute(file)) return { path: file, outcome: 'refused', detail: 'not an absolute path' };
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return { path: file, outcome: 'already gone' };
  if (!stat.isFile()) return { path: file, outcome: 'refused', detail: 'no longer a regular file' };
  try {
    fs.unlinkSync(file);
    return { path: file, outcome: 'removed' };
  } catch (error) {
    return { path: file, outcome: 'failed', detail: (error as NodeJS.ErrnoException).code ?? 'unknown error' };
  }
}

function removeDirectory(directory: string): RemovalResult {
  if (!path.isAbsolute(directory)) return { path: directory, outcome: 'refused', detail: 'not an absolute path' };
  const stat = fs.lstatSync(directory, { throwIfNoEntry: false });
  if (stat === undefined) return { path: directory, outcome: 'already gone' };
  if (!stat.isDirectory()) return { path: directory, outcome: 'refused', detail: 'no longer a folder' };
  try {
    fs.rmdirSync(directory); // only when empty: never takes anything this run did not write
    return { path: directory, outcome: 'removed' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return { path: directory, outcome: code === 'ENOTEMPTY' ? 'refused' : 'failed', detail: code === 'ENOTEMPTY' ? 'not empty' : code };
  }
}
