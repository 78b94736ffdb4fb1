package data

import (
	"strings"
	"testing"
)

// FuzzCelebAAttrLines parses arbitrary bytes as CelebA's attribute table, in the text and in Kaggle's CSV layout:
// no panic, and an accepted table has one file and one full row of attributes per image.
func FuzzCelebAAttrLines(f *testing.F) {
	f.Add([]byte("2\nMale Young\n000001.jpg 1 -1\n000002.jpg -1 1\n"))
	f.Add([]byte("image_id,Male,Young\r\n000001.jpg,1,-1\r\n000002.jpg,-1,1\r\n"))
	f.Add([]byte("100000000000000\nMale\n"))                               // a count that no file holds
	f.Add([]byte("1\n" + strings.Repeat("A ", 5000) + "\n000001.jpg 1\n")) // many names, a short row
	f.Add([]byte("1\n\n\n,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, csv := range []bool{false, true} {
			var c CelebA
			if err := c.parseAttrs(strings.NewReader(string(data)), "list_attr_celeba", csv); err != nil {
				continue
			}
			if len(c.Files) != len(c.Attrs) || len(c.AttrNames) == 0 {
				t.Fatalf("csv=%v: %d files, %d rows, %d names", csv, len(c.Files), len(c.Attrs), len(c.AttrNames))
			}
			for i, row := range c.Attrs {
				if len(row) != len(c.AttrNames) {
					t.Fatalf("csv=%v: row %d has %d attributes, %d names", csv, i, len(row), len(c.AttrNames))
				}
			}
		}
	})
}
