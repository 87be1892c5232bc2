#!/bin/sh
# Rebuilds the BMP and ICO fixtures from the three pattern PNGs with
# ImageMagick (apt-get install imagemagick), and ImageMagick's own decode of
# each as an RGBA PNG in ref/ (the reference the decoder's tests compare
# with), where ImageMagick reads them right.
# The files are committed; the tests never run this.
set -eu
cd "$(dirname "$0")"
mkdir -p ref
convert pattern.png -type truecolor BMP3:rgb24.bmp
convert pattern.png -type truecolor BMP:v5-rgb24.bmp
convert pattern.png -type palette -colors 16 -compress RLE BMP3:rle8.bmp
convert rle8.bmp -compress none BMP3:pal8.bmp
convert pattern.png -colors 16 -depth 4 -type palette BMP3:pal4.bmp
convert pattern-mono.png -monochrome BMP3:mono.bmp
convert pattern.png -type truecolor BMP2:os2-rgb24.bmp
convert pattern.png -type palette BMP2:os2-pal4.bmp
convert pattern-alpha.png BMP:argb32.bmp
convert pattern.png -define bmp:subtype=RGB565 BMP:rgb565.bmp
convert pattern.png -define bmp:subtype=RGB555 BMP:rgb555.bmp
convert pattern-alpha.png -define bmp:subtype=ARGB4444 BMP:argb4444.bmp
convert pattern-alpha.png -define bmp:subtype=ARGB1555 BMP:argb1555.bmp
convert pattern-alpha.png icon32.ico
convert pattern.png -type palette pal4-mask.ico
convert pattern-alpha.png \( -clone 0 -resize 16x16! \) \( -clone 0 -resize 48x48! \) -delete 0 multi.ico
convert pattern-alpha.png -resize 256x256! png256.ico
# Not argb4444 and argb1555: ImageMagick 6 reads a 4-bit channel as v << 4
# (15 as 240) and a set 1-bit alpha as 128, where browsers read 255. Their
# test compares with the pattern itself.
for f in *.bmp icon32.ico pal4-mask.ico png256.ico; do
  case "$f" in argb4444.bmp | argb1555.bmp) continue ;; esac
  convert "$f" "png32:ref/${f%.*}.png"
done
convert 'multi.ico[1]' png32:ref/multi.png
