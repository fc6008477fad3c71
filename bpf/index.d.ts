/** bpf/.output/ (with a trailing slash): every compiled <hook>.bpf.o. */
export declare const bpfOutputDir: string;
/** bpf/include/ (with a trailing slash): events.h and vmlinux.h. */
export declare const bpfIncludeDir: string;
/** bpf/include/vmlinux.h. */
export declare const vmlinuxHeader: string;
/** bpf/.output/<name>.bpf.o. */
export declare function bpfObject(name: string): string;
