package data

import (
	"fmt"
	"image/color"
	"sort"
	"strings"
)

// Palette maps the colour words used for tints to RGB. The names are plain English words because captions say
// them ("a photo of a red sneaker").
var Palette = map[string]color.RGBA{
	"red":     {230, 25, 25, 255},
	"green":   {25, 200, 25, 255},
	"blue":    {40, 80, 255, 255},
	"yellow":  {240, 220, 20, 255},
	"orange":  {255, 140, 0, 255},
	"purple":  {150, 40, 220, 255},
	"pink":    {255, 105, 180, 255},
	"cyan":    {0, 210, 230, 255},
	"brown":   {150, 90, 40, 255},
	"white":   {255, 255, 255, 255},
	"gray":    {150, 150, 150, 255},
	"magenta": {230, 0, 230, 255},
}

// PaletteNames returns the names in Palette, sorted.
func PaletteNames() []string {
	out := make([]string, 0, len(Palette))
	for k := range Palette {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseColor returns the palette colour with the given name (case-insensitive).
func ParseColor(name string) (color.RGBA, error) {
	c, ok := Palette[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return color.RGBA{}, fmt.Errorf("unknown colour %q (known: %s)", name, strings.Join(PaletteNames(), ", "))
	}
	return c, nil
}

// TintGray writes the gray image g (H*W bytes) tinted with c into dst (H*W*3 bytes, RGB): each channel is the
// gray value scaled by the colour's channel (v·c/255), so black stays black and white becomes c.
func TintGray(dst, g []uint8, c color.RGBA) {
	for j, v := range g {
		x := uint32(v)
		dst[3*j] = uint8((x*uint32(c.R) + 127) / 255)
		dst[3*j+1] = uint8((x*uint32(c.G) + 127) / 255)
		dst[3*j+2] = uint8((x*uint32(c.B) + 127) / 255)
	}
}
