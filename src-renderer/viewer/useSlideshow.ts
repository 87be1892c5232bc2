import { useEffect, useState } from 'react';

/** The slideshow's pace choices, seconds an image. */
export const SLIDE_SECONDS = [2, 3, 5, 10] as const;

/**
 * A slideshow: while `playing`, moves to the next image every `seconds`
 * (after the last, back to the first), counting from when the image showed.
 */
export function useSlideshow(
  index: number,
  total: number,
  open: (index: number) => void,
): {
  playing: boolean;
  seconds: number;
  toggle: () => void;
  stop: () => void;
  setSeconds: (s: number) => void;
} {
  const [playing, setPlaying] = useState(false);
  const [seconds, setSeconds] = useState<number>(3);
  useEffect(() => {
    if (!playing || total < 2) return;
    const timer = setTimeout(() => open(index + 1 >= total ? 0 : index + 1), seconds * 1000);
    return () => clearTimeout(timer);
  }, [playing, index, total, seconds, open]);
  return {
    playing,
    seconds,
    toggle: () => setPlaying((p) => !p),
    stop: () => setPlaying(false),
    setSeconds,
  };
}
