// Where this package's build output and headers are, for the packages that load or compile
// against them (the agent, libbpf's and events' tests, benchmarks): import them from
// '@wirescope/bpf' instead of climbing out of a package with a relative path.
import { fileURLToPath } from 'node:url';

/** bpf/.output/: every compiled <hook>.bpf.o (built by `make`, the package's build). */
export const bpfOutputDir = fileURLToPath(new URL('./.output/', import.meta.url));

/** bpf/include/: the event ABI (events.h) and vmlinux.h. */
export const bpfIncludeDir = fileURLToPath(new URL('./include/', import.meta.url));

/** bpf/include/vmlinux.h, generated from the running kernel's BTF by the build. */
export const vmlinuxHeader = fileURLToPath(new URL('./include/vmlinux.h', import.meta.url));

/** The compiled object of one program: bpfObject('probe') is bpf/.output/probe.bpf.o. */
export const bpfObject = (name) => `${bpfOutputDir}${name}.bpf.o`;
