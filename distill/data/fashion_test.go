package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// writeIDX writes an IDX file of unsigned bytes with the given dimensions, gzipped when gz.
func writeIDX(t *testing.T, path string, dims []int, data []byte, gz bool) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	out := b.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(out)
		w.Close()
		out = z.Bytes()
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeFashion writes a tiny Fashion-MNIST directory: n train and m test 2×3 images whose pixels encode the index.
func fakeFashion(t *testing.T, n, m int, gz bool) string {
	t.Helper()
	dir := t.TempDir()
	ext := ""
	if gz {
		ext = ".gz"
	}
	for _, s := range []struct {
		prefix string
		n      int
	}{{"train", n}, {"t10k", m}} {
		pix := make([]byte, s.n*6)
		lab := make([]byte, s.n)
		for i := range s.n {
			for j := range 6 {
				pix[i*6+j] = byte(i + j)
			}
			lab[i] = byte(i % 10)
		}
		writeIDX(t, filepath.Join(dir, s.prefix+"-images-idx3-ubyte"+ext), []int{s.n, 2, 3}, pix, gz)
		writeIDX(t, filepath.Join(dir, s.prefix+"-labels-idx1-ubyte"+ext), []int{s.n}, lab, gz)
	}
	return dir
}

func TestLoadFashionFixture(t *testing.T) {
	for _, gz := range []bool{true, false} {
		dir := fakeFashion(t, 30, 20, gz)
		f, err := LoadFashion(dir)
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		if f.TrainImages.N != 30 || f.TestImages.N != 20 || f.TrainImages.H != 2 || f.TrainImages.W != 3 || f.TrainImages.C != 1 {
			t.Fatalf("gz=%v: shapes train %+v test N=%d", gz, f.TrainImages, f.TestImages.N)
		}
		if f.TrainLabels[13] != 3 || f.TrainImages.Pixels(13)[2] != 15 {
			t.Errorf("gz=%v: example 13: label %d, pixel 2 = %d", gz, f.TrainLabels[13], f.TrainImages.Pixels(13)[2])
		}
	}
}

func TestLoadFashionBadInput(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		_, err := LoadFashion(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, ErrFashionMissing) {
			t.Fatalf("err = %v, want ErrFashionMissing", err)
		}
		for _, want := range []string{"train-images-idx3-ubyte", "md5sum -c", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "apt-get install dataset-fashion-mnist"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q:\n%v", want, err)
			}
		}
	})
	t.Run("bad magic", func(t *testing.T) {
		dir := fakeFashion(t, 3, 3, false)
		p := filepath.Join(dir, "train-labels-idx1-ubyte")
		os.WriteFile(p, []byte{0, 0, 9, 1, 0, 0, 0, 1, 5}, 0o644)
		_, err := LoadFashion(dir)
		if err == nil || !strings.Contains(err.Error(), "bad magic") || !strings.Contains(err.Error(), p) {
			t.Fatalf("err = %v, want bad magic naming %s", err, p)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		dir := fakeFashion(t, 3, 3, true)
		p := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
		writeIDX(t, p, []int{3, 2, 3}, make([]byte, 10), true)
		_, err := LoadFashion(dir)
		if err == nil || !strings.Contains(err.Error(), "shorter than dimensions") {
			t.Fatalf("err = %v, want a truncation error", err)
		}
	})
	t.Run("count mismatch", func(t *testing.T) {
		dir := fakeFashion(t, 3, 3, false)
		writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), []int{2}, []byte{1, 2}, false)
		if _, err := LoadFashion(dir); err == nil || !strings.Contains(err.Error(), "3 images") {
			t.Fatalf("err = %v, want an images/labels count error", err)
		}
	})
	t.Run("label out of range", func(t *testing.T) {
		dir := fakeFashion(t, 3, 3, false)
		writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), []int{3}, []byte{1, 12, 2}, false)
		if _, err := LoadFashion(dir); err == nil || !strings.Contains(err.Error(), "label 12") {
			t.Fatalf("err = %v, want a label error", err)
		}
	})
}

func TestFashionDirEnv(t *testing.T) {
	t.Setenv(EnvFashionDir, "/some/where")
	if got := FashionDir(""); got != "/some/where" {
		t.Errorf("FashionDir with env = %q", got)
	}
	if got := FashionDir("/x"); got != "/x" {
		t.Errorf("FashionDir(/x) = %q", got)
	}
}

func TestFashionClassIndex(t *testing.T) {
	for in, want := range map[string]int{"6": 6, "Shirt": 6, "t-shirt": 0, "T-shirt/top": 0, "ankle boot": 9, "Ankle-Boot": 9, "bag": 8} {
		if got, err := FashionClassIndex(in); err != nil || got != want {
			t.Errorf("FashionClassIndex(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := FashionClassIndex("hat"); err == nil {
		t.Error("FashionClassIndex accepted hat")
	}
}

// realFashion loads the Debian-installed Fashion-MNIST (make setup installs it; CI has it).
func realFashion(t *testing.T) *Fashion {
	t.Helper()
	f, err := LoadFashion("")
	if err != nil {
		t.Fatalf("Fashion-MNIST is required for this test (run `make setup`): %v", err)
	}
	return f
}

func TestLoadFashionReal(t *testing.T) {
	f := realFashion(t)
	if f.TrainImages.N != 60000 || f.TestImages.N != 10000 || f.TrainImages.H != 28 || f.TrainImages.W != 28 {
		t.Fatalf("sizes: train %d test %d %dx%d", f.TrainImages.N, f.TestImages.N, f.TrainImages.H, f.TrainImages.W)
	}
	counts := make([]int, 10)
	for _, l := range f.TrainLabels {
		counts[l]++
	}
	for c, n := range counts {
		if n != 6000 {
			t.Errorf("class %d has %d train images, want 6000", c, n)
		}
	}
	// Golden values: the first train label is 9 (Ankle boot) and the first test label 9 as well.
	if f.TrainLabels[0] != 9 || f.TestLabels[0] != 9 || f.TrainLabels[1] != 0 {
		t.Errorf("first labels: train %d %d, test %d", f.TrainLabels[0], f.TrainLabels[1], f.TestLabels[0])
	}
}

// TestIDXForgedHeader: an IDX file of 16 bytes whose header claims 2^28 × 16 images used to allocate the 4 GB it
// announced before finding the data missing; now the claim is checked against what the file can hold first.
func TestIDXForgedHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forged-idx3-ubyte")
	os.WriteFile(path, []byte{0, 0, 8, 3, 0x10, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1}, 0o644)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := LoadIDXImages(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "the file holds at most") {
		t.Fatalf("forged IDX: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("reading the forged header allocated %d MB", alloc>>20)
	}
}

// TestIDXGzipBound: a gzipped IDX whose header claims more than its trailer says it inflates to is refused before
// reading; one that holds what it claims reads back exactly.
func TestIDXGzipBound(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, header []byte, data []byte) string {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(header)
		zw.Write(data)
		zw.Close()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pix := bytes.Repeat([]byte{7}, 2*3*3)
	good := write("good.gz", []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3}, pix)
	im, err := LoadIDXImages(good)
	if err != nil || im.N != 2 || im.H != 3 || !bytes.Equal(im.Pix, pix) {
		t.Fatalf("good gzip IDX: %v %+v", err, im)
	}
	claims := write("claims.gz", []byte{0, 0, 8, 3, 0, 1, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28}, pix) // 65536 images
	if _, err := LoadIDXImages(claims); err == nil || !strings.Contains(err.Error(), "the file holds at most") {
		t.Fatalf("over-claiming gzip IDX: %v", err)
	}
}

// TestIDXInflatedCopy: a gzipped IDX file is inflated into the user cache once; the next read gives the same data
// from the copy, and a changed file gets a copy of its own.
func TestIDXInflatedCopy(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	path := filepath.Join(dir, "x-idx3-ubyte.gz")
	write := func(fill byte) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2})
		zw.Write(bytes.Repeat([]byte{fill}, 8))
		zw.Close()
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(3)
	a, err := LoadIDXImages(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := inflatedCopy(path)
	if _, err := os.Stat(copyPath); err != nil {
		t.Fatalf("no inflated copy at %s: %v", copyPath, err)
	}
	b, err := LoadIDXImages(path)
	if err != nil || !bytes.Equal(a.Pix, b.Pix) || b.N != 2 {
		t.Fatalf("second read: %v %+v", err, b)
	}
	time.Sleep(10 * time.Millisecond) // a later modification time
	write(5)
	c, err := LoadIDXImages(path)
	if err != nil || c.Pix[0] != 5 || inflatedCopy(path) == copyPath {
		t.Fatalf("after a change: %v, first pixel %d, copy %s", err, c.Pix[0], inflatedCopy(path))
	}
}
