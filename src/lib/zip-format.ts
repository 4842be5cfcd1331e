/**
 * The numbers of the ZIP format (PKWARE APPNOTE) that both our ZIP writer (XLSX exports) and the
 * import's ZIP checker use: record signatures, flags, methods and the limits of a ZIP without
 * ZIP64.
 */
export const SIG_LOCAL_HEADER = 0x04034b50;
export const SIG_DATA_DESCRIPTOR = 0x08074b50;
export const SIG_CENTRAL_HEADER = 0x02014b50;
export const SIG_END_OF_CENTRAL_DIR = 0x06054b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DATA_DESCRIPTOR = 0x0008;
export const FLAG_UTF8_NAME = 0x0800;

export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
/** "version needed to extract" of a plain deflated or stored entry */
export const VERSION_NEEDED = 20;

/** without ZIP64: sizes and offsets are 32-bit, entry counts 16-bit */
export const MAX_U32 = 0xffffffff;
export const MAX_ENTRIES = 0xffff;
