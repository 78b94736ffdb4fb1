package data

import (
	"bufio"
	"fmt"
	"image"
	_ "image/gif"  // register GIF
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"os"
	"path/filepath"
	"slices"
	"strings"

	_ "golang.org/x/image/bmp"  // register BMP
	_ "golang.org/x/image/tiff" // register TIFF
	_ "golang.org/x/image/webp" // register WebP
)

// imageExtensions lists the extensions of every format DecodeFile reads (a decoder is registered for each).
var imageExtensions = []string{".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"}

// ImageExtensions returns the file extensions faildirs reads as images, lower case with the dot: JPEG (.jpg,
// .jpeg), PNG, GIF, BMP, TIFF (.tif, .tiff) and WebP. Image folders, ImageNet and `faildirs embed` collect files
// by this list, and [DecodeFile] decodes every format in it.
func ImageExtensions() []string { return slices.Clone(imageExtensions) }

// IsImageFile reports whether name has one of [ImageExtensions] (any case) and is not a hidden file (a name
// starting with ".", such as macOS "._photo.jpg" metadata files).
func IsImageFile(name string) bool {
	base := filepath.Base(name)
	return slices.Contains(imageExtensions, strings.ToLower(filepath.Ext(base))) && !strings.HasPrefix(base, ".")
}

// DecodeFile opens and decodes one image file in any format of [ImageExtensions] (the format is found from the
// content, not the extension); errors name the file.
func DecodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	img, format, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		if format != "" {
			return nil, fmt.Errorf("image %s: cannot decode %s: %w", path, format, err)
		}
		return nil, fmt.Errorf("image %s: cannot decode: %w", path, err)
	}
	return img, nil
}
