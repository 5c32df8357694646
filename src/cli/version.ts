// `tsrun --version`, in runc's layout (name version, then the spec version).
export const TSRUN_VERSION = '0.1.0';
export const SPEC_VERSION = '1.3.0';

export const VERSION_TEXT = `tsrun version ${TSRUN_VERSION}\nspec: ${SPEC_VERSION}\nnode: ${process.version}\n`;
