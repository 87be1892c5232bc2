/**
 * Splits a file name for a middle ellipsis: the head may be cut, the tail (the
 * end of the name and its extension) always shows, because that is where
 * names in one folder usually differ ("IMG_2041.jpg", "scan-0007.png").
 */
export function splitName(name: string, tailChars = 12): { head: string; tail: string } {
  if (name.length <= tailChars + 4) return { head: name, tail: '' };
  return { head: name.slice(0, name.length - tailChars), tail: name.slice(-tailChars) };
}
