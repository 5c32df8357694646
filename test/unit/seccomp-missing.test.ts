// A host without libseccomp: TSRUN_LIBSECCOMP points at a library that does not
// exist, set before anything loads libseccomp (vitest gives each test file its
// own module instances). Only seccomp needs the library, and its absence is one
// clear error.
import { describe, expect, it } from 'vitest';
import { LibseccompUnavailableError, libseccompAvailable } from '../../native/seccomp.js';
import { compileSeccomp } from '../../src/lifecycle/seccomp.js';

describe('without libseccomp', () => {
  it('says so clearly, naming the library and how to install it', () => {
    process.env.TSRUN_LIBSECCOMP = '/nonexistent/libseccomp.so.2';
    expect(libseccompAvailable()).toBe(false);
    let err: unknown;
    try {
      compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LibseccompUnavailableError);
    expect((err as Error).message).toMatch(/^seccomp needs libseccomp, and \/nonexistent\/libseccomp\.so\.2 cannot be loaded \(.+\); install it \(Debian\/Ubuntu: apt-get install libseccomp2/);
  });
});
