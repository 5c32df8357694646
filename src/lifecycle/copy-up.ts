// tmpcopyup: copy what the image has under a tmpfs mount point into the new
// tmpfs. The stub sends tsrun both directories as fds (they live in the
// container's mount namespace); tsrun walks them through /proc/self/fd.
// Symlinks are copied as symlinks and never followed, so nothing outside the
// source is read; modes, owners and times are kept.
import { chmodSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import * as libc from '../../native/libc.js';
import { S } from '../../native/constants.js';

function copyEntry(from: string, to: string): void {
  const st = lstatSync(from);
  const type = st.mode & S.S_IFMT;
  if (type === S.S_IFDIR) {
    mkdirSync(to);
    for (const name of readdirSync(from)) copyEntry(join(from, name), join(to, name));
  } else if (type === S.S_IFLNK) {
    symlinkSync(readlinkSync(from), to);
  } else if (type === S.S_IFREG) {
    copyFileSync(from, to);
  } else if (type === S.S_IFIFO) {
    libc.mkfifo(to, st.mode & 0o7777);
  } else {
    // Device nodes and sockets do not belong in a tmpfs copy (runc's copy skips them too).
    return;
  }
  lchownSync(to, st.uid, st.gid);
  if (type === S.S_IFLNK) {
    lutimesSync(to, st.atime, st.mtime);
  } else {
    chmodSync(to, st.mode & 0o7777);
    utimesSync(to, st.atime, st.mtime);
  }
}

/** Copies the entries of the directory `sourceFd` into the directory `targetFd`. */
export function copyUp(sourceFd: number, targetFd: number): void {
  const from = `/proc/self/fd/${sourceFd}`;
  const to = `/proc/self/fd/${targetFd}`;
  for (const name of readdirSync(from)) copyEntry(join(from, name), join(to, name));
}
