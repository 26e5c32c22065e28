package rancher

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// scanner reads JSON from a stream one value at a time, as fast as the
// metadata tree needs: a large environment's answer is tens of MB of which
// the model keeps a few fields, so everything else is skipped — validated
// as encoding/json validates it, but never decoded. Strings the model keeps
// are decoded by encoding/json itself when they hold an escape or non-ASCII
// bytes, so they come out exactly as it would give them.
type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // the next byte to read in buf
	end  int   // buf[:end] holds data; buf[end] is 0
	mark int   // when >= 0, buf[mark:] is kept through fills (a value being captured)
	base int64 // offset in the stream of buf[0]
	eof  bool
	rerr error // a read error other than io.EOF
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// errSyntax is what a malformed answer fails with.
var errSyntax = errors.New("invalid JSON")

// newScanner reads r with a buffer of size bytes to begin with (it grows
// to hold the longest value captured).
func newScanner(r io.Reader, size int) *scanner {
	return &scanner{r: r, buf: make([]byte, max(size, 8)+1), mark: -1} // +1: the 0 after the data
}

// fill reads more of the stream, keeping buf[min(pos, mark):]. It reports
// false at the end of the stream.
func (s *scanner) fill() bool {
	if s.eof {
		return false
	}
	keep := s.pos
	if s.mark >= 0 && s.mark < keep {
		keep = s.mark
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:s.end])
		s.base += int64(keep)
		s.pos -= keep
		if s.mark >= 0 {
			s.mark -= keep
		}
		s.end = n
	}
	if s.end == len(s.buf)-1 {
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	defer func() { s.buf[s.end] = 0 }()
	for {
		n, err := s.r.Read(s.buf[s.end : len(s.buf)-1])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// fail is the error at the current position: the read error if there was
// one, else a syntax error.
func (s *scanner) fail(what string) error {
	if s.rerr != nil {
		return s.rerr
	}
	if s.pos >= s.end && s.eof {
		return fmt.Errorf("%w: unexpected end of the answer", errSyntax)
	}
	return fmt.Errorf("%w at offset %d: %s", errSyntax, s.base+int64(s.pos), what)
}

// peek skips white space and returns the next byte, 0 at the end.
func (s *scanner) peek() byte {
	// The usual case, inlined: compact JSON. buf[end] is a 0 (fill keeps
	// it), which takes the slow way.
	if c := s.buf[s.pos]; c > ' ' {
		return c
	}
	return s.peekSlow()
}

func (s *scanner) peekSlow() byte {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c
			}
		}
		if !s.fill() {
			return 0
		}
	}
}

// expect consumes the byte c after white space.
func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.fail(fmt.Sprintf("want %q", c))
	}
	s.pos++
	return nil
}

// object reads an object, calling field for each key; field must consume
// the value. The key's bytes are valid only until field reads on.
func (s *scanner) object(depth int, field func(key []byte) error) error {
	if depth > maxDepth {
		return s.fail("nested too deeply")
	}
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		key, err := s.keyColon()
		if err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("want , or }")
		}
	}
}

// array reads an array, calling item for each value; item must consume it.
func (s *scanner) array(depth int, item func() error) error {
	if depth > maxDepth {
		return s.fail("nested too deeply")
	}
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("want , or ]")
		}
	}
}

// plainByte marks the bytes a string can hold as they are: not a quote, a
// backslash, a control character, or beyond ASCII.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainWord reports whether the 8 bytes of w are all plainByte: none is a
// quote, a backslash, below 0x20 or beyond ASCII (the bit tricks of "Bit
// Twiddling Hacks": a byte of x is zero when (x-0x01…)&^x&0x80… has its
// top bit).
func plainWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	bad := w&highs | // beyond ASCII
		(w-0x20*ones)&^w&highs | // below 0x20 (w has no high bit set here)
		zero(w^('"'*ones)) | zero(w^('\\'*ones))
	return bad == 0
}

// rawString reads a string and returns its bytes as written, quotes
// included, and whether it is plain (nothing to decode). The bytes are
// valid until the next read.
func (s *scanner) rawString() (raw []byte, plain bool, err error) {
	if s.peek() != '"' {
		return nil, false, s.fail("want a string")
	}
	start := s.pos
	i := start + 1
	plain = true
	for {
		b := s.buf[:s.end]
		for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && plainByte[b[i]] {
			i++
		}
		if i >= s.end {
			off := i - start
			s.pos = start
			if !s.fill() {
				s.pos = s.end
				return nil, false, s.fail("unterminated string")
			}
			start, i = s.pos, s.pos+off
			continue
		}
		switch c := s.buf[i]; {
		case c == '"':
			s.pos = i + 1
			return s.buf[start : i+1], plain, nil
		case c < 0x20:
			s.pos = i
			return nil, false, s.fail("control character in a string")
		case c == '\\':
			plain = false
			n, ok := s.escape(&start, i)
			if !ok {
				return nil, false, s.fail("invalid escape in a string")
			}
			i = n
		default: // beyond ASCII: encoding/json checks the UTF-8 (and replaces what is invalid)
			plain = false
			i++
		}
	}
}

// escape checks the escape at buf[i] ('\\'), refilling as needed (start is
// moved along with the buffer), and returns the index after it.
func (s *scanner) escape(start *int, i int) (int, bool) {
	need := 2
	for {
		if i+need > s.end {
			off := i - *start
			s.pos = *start
			if !s.fill() {
				return 0, false
			}
			*start = s.pos
			i = *start + off
			continue
		}
		switch s.buf[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			return i + 2, true
		case 'u':
			if need == 2 {
				need = 6
				continue
			}
			for _, h := range s.buf[i+2 : i+6] {
				if !isHex(h) {
					return 0, false
				}
			}
			return i + 6, true
		default:
			return 0, false
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// keyColon reads a key and the colon after it. The key's bytes stay in
// the buffer through the reads of the colon (a fill would move them).
func (s *scanner) keyColon() ([]byte, error) {
	raw, plain, err := s.rawString()
	if err != nil {
		return nil, err
	}
	if !plain {
		v, err := unquote(raw)
		if err != nil {
			return nil, err
		}
		return []byte(v), s.expect(':')
	}
	start := s.base + int64(s.pos-len(raw)) // the key's quote, in the stream
	outer := int64(-1)
	if s.mark >= 0 {
		outer = s.base + int64(s.mark)
	}
	keep := start
	if outer >= 0 && outer < keep {
		keep = outer
	}
	s.mark = int(keep - s.base)
	err = s.expect(':')
	s.mark = -1
	if outer >= 0 {
		s.mark = int(outer - s.base)
	}
	i := int(start-s.base) + 1
	return s.buf[i : i+len(raw)-2], err
}

// str reads a string.
func (s *scanner) str() (string, error) {
	raw, plain, err := s.rawString()
	if err != nil {
		return "", err
	}
	if plain {
		return string(raw[1 : len(raw)-1]), nil
	}
	return unquote(raw)
}

// unquote decodes a JSON string that needs it, as encoding/json does.
func unquote(raw []byte) (string, error) {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%w: %w", errSyntax, err)
	}
	return v, nil
}

// optString reads a string or null (""), as encoding/json fills a *string.
func (s *scanner) optString(what string) (string, error) {
	switch s.peek() {
	case 'n':
		return "", s.literal("null")
	case '"':
		return s.str()
	}
	return "", s.mistyped(what, "a string")
}

// optWord is optString for a field of few values (a state, a kind): one
// of words comes back without an allocation.
func (s *scanner) optWord(what string, words []string) (string, error) {
	plain, str, err := s.optPlain(what)
	if plain == nil {
		return str, err
	}
	for _, w := range words {
		if string(plain) == w {
			return w, nil
		}
	}
	return string(plain), nil
}

// optPlain is optString for callers that make a plain string their own
// way: a string without escapes comes back as its bytes (plain, not
// nil), anything else as optString answers it (str, err).
func (s *scanner) optPlain(what string) (plain []byte, str string, err error) {
	if s.peek() != '"' {
		str, err = s.optString(what)
		return nil, str, err
	}
	raw, isPlain, err := s.rawString()
	if err != nil {
		return nil, "", err
	}
	if !isPlain {
		str, err = unquote(raw)
		return nil, str, err
	}
	return raw[1 : len(raw)-1], "", nil
}

// skipOptString checks a string or null, and skips it.
func (s *scanner) skipOptString(what string) error {
	switch s.peek() {
	case 'n':
		return s.literal("null")
	case '"':
		_, _, err := s.rawString()
		return err
	}
	return s.mistyped(what, "a string")
}

// optBool reads true, false or null (false).
func (s *scanner) optBool(what string) (bool, error) {
	switch s.peek() {
	case 'n':
		return false, s.literal("null")
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, s.mistyped(what, "true or false")
}

// mistyped is the error for a value of the wrong type: the value is
// checked first, so a malformed answer is reported as such.
func (s *scanner) mistyped(what, want string) error {
	if err := s.skip(1); err != nil {
		return err
	}
	return fmt.Errorf("%s is not %s", what, want)
}

// literal consumes the literal want (true, false, null).
func (s *scanner) literal(want string) error {
	for s.end-s.pos < len(want) {
		if !s.fill() {
			return s.fail("truncated literal")
		}
	}
	if string(s.buf[s.pos:s.pos+len(want)]) != want {
		return s.fail("invalid literal")
	}
	s.pos += len(want)
	return nil
}

// number reads a number as written, checked against JSON's grammar.
func (s *scanner) number() (string, error) {
	s.peek()
	start := s.pos
	i := start
	// at returns the byte at i (0 at the end), refilling as needed.
	at := func() byte {
		for i >= s.end {
			off := i - start
			s.pos = start
			if !s.fill() {
				return 0
			}
			start = s.pos
			i = start + off
		}
		return s.buf[i]
	}
	digits := func() int {
		n := 0
		for c := at(); c >= '0' && c <= '9'; c = at() {
			i++
			n++
		}
		return n
	}
	if at() == '-' {
		i++
	}
	switch c := at(); {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		digits()
	default:
		s.pos = i
		return "", s.fail("invalid number")
	}
	if at() == '.' {
		i++
		if digits() == 0 {
			s.pos = i
			return "", s.fail("invalid number")
		}
	}
	if c := at(); c == 'e' || c == 'E' {
		i++
		if c := at(); c == '+' || c == '-' {
			i++
		}
		if digits() == 0 {
			s.pos = i
			return "", s.fail("invalid number")
		}
	}
	s.pos = i
	return string(s.buf[start:i]), nil
}

// skip consumes one value of any kind, checking it. It is iterative, with
// the open brackets on a stack: most of a large answer goes through it.
func (s *scanner) skip(depth int) error {
	var open [64]byte
	stack := open[:0] // the brackets open, '{' or '['
	for {
		// A value.
		switch c := s.peek(); {
		case c == '{' || c == '[':
			if depth+len(stack) > maxDepth {
				return s.fail("nested too deeply")
			}
			s.pos++
			if s.peek() == c+2 { // '{'+2 is '}', '['+2 is ']'
				s.pos++
				break
			}
			stack = append(stack, c)
			if c == '{' {
				if err := s.skipKeyColon(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			if _, _, err := s.rawString(); err != nil {
				return err
			}
		case c == 't':
			if err := s.literal("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := s.literal("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := s.literal("null"); err != nil {
				return err
			}
		case c == '-' || c >= '0' && c <= '9':
			if _, err := s.number(); err != nil {
				return err
			}
		default:
			return s.fail("want a value")
		}
		// After a value: close what it ends, until a comma asks for the next.
		for {
			if len(stack) == 0 {
				return nil
			}
			top := stack[len(stack)-1]
			c := s.peek()
			if c == top+2 {
				s.pos++
				stack = stack[:len(stack)-1]
				continue
			}
			if c != ',' {
				if top == '{' {
					return s.fail("want , or }")
				}
				return s.fail("want , or ]")
			}
			s.pos++
			if top == '{' {
				if err := s.skipKeyColon(); err != nil {
					return err
				}
			}
			break
		}
	}
}

// skipKeyColon consumes a key and the colon after it.
func (s *scanner) skipKeyColon() error {
	if _, _, err := s.rawString(); err != nil {
		return err
	}
	return s.expect(':')
}

// capture consumes one value and returns its bytes as written.
func (s *scanner) capture(depth int) ([]byte, error) {
	s.peek()
	s.mark = s.pos
	err := s.skip(depth)
	start := s.mark
	s.mark = -1
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), s.buf[start:s.pos]...), nil
}

// labelValue reads a label's value as the model keeps it: a string as it
// is, null as "", and any other value rendered as the decoder before this
// one rendered it (through encoding/json's generic decoding).
func (s *scanner) labelValue(depth int) (string, error) {
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == 'n':
		return "", s.literal("null")
	case c == 't':
		return "true", s.literal("true")
	case c == 'f':
		return "false", s.literal("false")
	case c == '-' || c >= '0' && c <= '9':
		n, err := s.number()
		if err != nil {
			return "", err
		}
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return "", fmt.Errorf("label value %s is out of range", n)
		}
		return fmt.Sprint(f), nil
	}
	raw, err := s.capture(depth)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%w: %w", errSyntax, err)
	}
	b, _ := json.Marshal(v)
	return string(b), nil
}

// atEnd reports whether only white space is left.
func (s *scanner) atEnd() bool {
	s.peek()
	return s.pos >= s.end && s.rerr == nil
}
