package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// EnvFashionDir names the environment variable that overrides the Fashion-MNIST directory.
const EnvFashionDir = "FAILDIRS_FASHION_MNIST"

// DefaultFashionDir is where Debian's dataset-fashion-mnist package installs the files.
const DefaultFashionDir = "/usr/share/datasets/fashion-mnist"

// FashionClasses are the ten Fashion-MNIST class names, by label.
var FashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// FashionNouns are the class names as lower-case nouns for captions ("a photo of a red t-shirt"), by label.
var FashionNouns = []string{"t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"}

// fashionFiles are the four IDX files, by split and kind; each may be gzipped (".gz") or raw.
var fashionFiles = map[string][2]string{
	"train": {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	"test":  {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// fashionMD5 are the upstream MD5 checksums of the gzipped files (from the Fashion-MNIST README).
var fashionMD5 = [][2]string{
	{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
	{"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"},
	{"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"},
	{"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"},
}

// Fashion holds Fashion-MNIST as read from disk: 60,000 train and 10,000 test gray 28×28 images with labels 0..9.
type Fashion struct {
	// Dir is the directory the files were read from.
	Dir string
	// TrainImages, TestImages are gray (C=1) 28×28 images.
	TrainImages, TestImages *Images
	// TrainLabels, TestLabels are class indices into FashionClasses.
	TrainLabels, TestLabels []int
}

// FashionDir resolves the Fashion-MNIST directory: dir when not empty, else $FAILDIRS_FASHION_MNIST, else
// DefaultFashionDir.
func FashionDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv(EnvFashionDir); d != "" {
		return d
	}
	return DefaultFashionDir
}

// FashionDownloadHelp returns shell commands that download Fashion-MNIST into dir and verify the upstream MD5
// checksums, for users with internet access.
func FashionDownloadHelp(dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  sudo apt-get install dataset-fashion-mnist    # Debian/Ubuntu: installs into %s\n", DefaultFashionDir)
	fmt.Fprintf(&b, "or download the upstream files (about 30 MB) and check them:\n")
	fmt.Fprintf(&b, "  mkdir -p %s && cd %s\n", dir, dir)
	fmt.Fprintf(&b, "  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do\n")
	fmt.Fprintf(&b, "    curl -fsSLO http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/$f.gz; done\n")
	fmt.Fprintf(&b, "  printf '%%s  %%s\\n'")
	for _, f := range fashionMD5 {
		fmt.Fprintf(&b, " %s %s", f[1], f[0])
	}
	fmt.Fprintf(&b, " | md5sum -c -\n")
	fmt.Fprintf(&b, "then pass the directory with -fashion-dir or $%s", EnvFashionDir)
	return b.String()
}

// ErrFashionMissing is returned (wrapped) by LoadFashion when the files are not present.
var ErrFashionMissing = errors.New("Fashion-MNIST not found")

// LoadFashion reads the four Fashion-MNIST IDX files (gzipped or raw) from dir (resolved by [FashionDir]).
// When they are missing, the error wraps ErrFashionMissing and says how to get them.
func LoadFashion(dir string) (*Fashion, error) {
	dir = FashionDir(dir)
	out := &Fashion{Dir: dir}
	for _, split := range []string{"train", "test"} {
		names := fashionFiles[split]
		imgPath, err := findIDX(dir, names[0])
		if err != nil {
			return nil, err
		}
		lblPath, err := findIDX(dir, names[1])
		if err != nil {
			return nil, err
		}
		im, err := LoadIDXImages(imgPath)
		if err != nil {
			return nil, err
		}
		lb, err := LoadIDXLabels(lblPath)
		if err != nil {
			return nil, err
		}
		if im.N != len(lb) {
			return nil, fmt.Errorf("fashion-mnist %s: %d images in %s but %d labels in %s", split, im.N, imgPath, len(lb), lblPath)
		}
		for i, l := range lb {
			if l >= len(FashionClasses) {
				return nil, fmt.Errorf("fashion-mnist %s: label %d of example %d in %s is not a class (0..9)", split, l, i, lblPath)
			}
		}
		if split == "train" {
			out.TrainImages, out.TrainLabels = im, lb
		} else {
			out.TestImages, out.TestLabels = im, lb
		}
	}
	return out, nil
}

func findIDX(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no %s(.gz) in %s; to get it:\n%s", ErrFashionMissing, name, dir, FashionDownloadHelp(dir))
}

// openMaybeGzip opens path, transparently un-gzipping it when it starts with the gzip magic bytes.
func openMaybeGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	head, _ := br.Peek(2)
	if bytes.Equal(head, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return struct {
			io.Reader
			io.Closer
		}{gz, f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, nil
}

// readIDX reads an IDX file of unsigned bytes (type code 0x08) and returns its dimensions and data.
// readIDX reads an IDX file of rank wantRank (plain or gzipped). A gzipped file is inflated once into the user
// cache ([InflatedIDXDir], keyed by the file's path, size and modification time) and read from there afterwards:
// inflating Fashion-MNIST's train images takes about half a second, reading them back a few hundredths, and every
// notebook cell is a new process that loads the data again.
func readIDX(path string, wantRank int) ([]int, []uint8, error) {
	raw := inflatedCopy(path)
	if raw != "" {
		if dims, buf, err := readIDXFile(raw, wantRank); err == nil {
			return dims, buf, nil
		}
	}
	dims, buf, err := readIDXFile(path, wantRank)
	if err == nil && raw != "" {
		_ = saveIDX(raw, dims, buf) // a cache that cannot be written only costs the next run the inflation
	}
	return dims, buf, err
}

// InflatedIDXDir is the folder below the user cache dir where gzipped IDX files are kept inflated.
const InflatedIDXDir = "faildirs/idx"

// inflatedCopy returns where the inflated copy of the gzipped file at path lives (it may not exist yet), or "" for
// a plain file or when there is no user cache dir.
func inflatedCopy(path string) string {
	st, err := os.Stat(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return ""
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	abs, _ := filepath.Abs(path)
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano())))
	return filepath.Join(base, InflatedIDXDir, hex.EncodeToString(sum[:8])+"-"+strings.TrimSuffix(filepath.Base(path), ".gz"))
}

// saveIDX writes an unsigned-byte IDX file (atomically, its folder created).
func saveIDX(path string, dims []int, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		head := []byte{0, 0, 0x08, byte(len(dims))}
		for _, d := range dims {
			head = binary.BigEndian.AppendUint32(head, uint32(d))
		}
		if _, err := w.Write(head); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	})
}

func readIDXFile(path string, wantRank int) ([]int, []uint8, error) {
	r, err := openMaybeGzip(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("idx %s: %w", path, err)
		}
		return nil, nil, fmt.Errorf("idx: %w", err)
	}
	defer r.Close()
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("idx %s: reading header: %w", path, err)
	}
	if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 {
		return nil, nil, fmt.Errorf("idx %s: bad magic % x (want 00 00 08 <rank>: unsigned bytes)", path, magic)
	}
	if int(magic[3]) != wantRank {
		return nil, nil, fmt.Errorf("idx %s: rank %d, want %d", path, magic[3], wantRank)
	}
	dims := make([]int, wantRank)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("idx %s: reading dimension %d: %w", path, i, err)
		}
		if d == 0 || d > 1<<28 {
			return nil, nil, fmt.Errorf("idx %s: implausible dimension %d = %d", path, i, d)
		}
		dims[i] = int(d)
		total *= int(d)
	}
	if total > 1<<32 {
		return nil, nil, fmt.Errorf("idx %s: %v is too large", path, dims)
	}
	// Allocate what the header claims only when the file can hold it (a forged header can announce 4 GB): a plain
	// file holds its size, a gzipped one at most its trailer's inflated size, itself at most deflate's 1032:1 ratio
	// times the file's size. One allocation of the right size also spares the page faults of a growing buffer.
	bound, err := idxDataBound(path)
	if err != nil {
		return nil, nil, fmt.Errorf("idx %s: %w", path, err)
	}
	if int64(total) > bound {
		return nil, nil, fmt.Errorf("idx %s: dimensions %v claim %d data bytes, the file holds at most %d", path, dims, total, bound)
	}
	buf := make([]byte, total)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, nil, fmt.Errorf("idx %s: data shorter than dimensions %v (%d bytes): %w", path, dims, total, err)
	}
	return dims, buf, nil
}

// idxDataBound returns an upper bound of the data bytes after the header of the IDX file at path, plain or gzipped.
func idxDataBound(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	var head [2]byte
	if _, err := f.ReadAt(head[:], 0); err != nil || head != [2]byte{0x1f, 0x8b} {
		return size, nil // plain: the file's own size bounds its data
	}
	var trailer [4]byte // ISIZE: the inflated size mod 2^32
	if size < 18 {
		return 0, errors.New("gzip file too short")
	}
	if _, err := f.ReadAt(trailer[:], size-4); err != nil {
		return 0, err
	}
	isize := int64(binary.LittleEndian.Uint32(trailer[:]))
	return min(isize, 1032*size), nil
}

// LoadIDXImages reads an IDX3 image file (N×H×W unsigned bytes, gzipped or raw) into gray Images.
func LoadIDXImages(path string) (*Images, error) {
	dims, buf, err := readIDX(path, 3)
	if err != nil {
		return nil, err
	}
	return &Images{N: dims[0], H: dims[1], W: dims[2], C: 1, Pix: buf}, nil
}

// LoadIDXLabels reads an IDX1 label file (N unsigned bytes, gzipped or raw).
func LoadIDXLabels(path string) ([]int, error) {
	_, buf, err := readIDX(path, 1)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(buf))
	for i, v := range buf {
		out[i] = int(v)
	}
	return out, nil
}

// FashionClassIndex parses a Fashion-MNIST class given as an index ("6") or a name, case-insensitively, either the
// class name ("Shirt", "T-shirt/top") or its noun ("t-shirt", "ankle boot").
func FashionClassIndex(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i := range FashionClasses {
		if t == fmt.Sprint(i) || t == strings.ToLower(FashionClasses[i]) || t == FashionNouns[i] ||
			t == strings.ReplaceAll(FashionNouns[i], " ", "-") || t == strings.ReplaceAll(FashionNouns[i], " ", "") {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown Fashion-MNIST class %q (use 0..9 or one of %s)", s, strings.Join(FashionClasses, ", "))
}
