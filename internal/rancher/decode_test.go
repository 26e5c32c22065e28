package rancher

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"rancher-traefik/internal/metadataserver"
)

// decodeCases are answers the fast decoder must read exactly as the
// reference (encoding/json) decoder does: the same snapshot, or an error
// from both.
var decodeCases = map[string]string{
	"minimal":                       `{"version":"1","services":[]}`,
	"nulls":                         `{"version":"1","services":[{"name":"a","stack_name":null,"labels":{"x":null,"n":3,"b":true},"ports":[null,"80/tcp"],"containers":[{"name":"c","primary_ip":null,"health_state":null}]}]}`,
	"all null":                      `{"version":"1","services":null,"containers":null,"stacks":null}`,
	"refs":                          `{"version":"1","services":[{"name":"a","stack_name":"s","containers":["c2","c1","gone"]}],"containers":[{"name":"c1","primary_ip":"10.0.0.1"},{"name":"c2","primary_ip":"10.0.0.2"}]}`,
	"by service":                    `{"containers":[{"name":"x","service_name":"A","stack_name":"S","state":"running"},{"name":"y"}],"version":"1","services":[{"name":"a","stack_name":"s"}]}`,
	"containers null":               `{"version":"1","services":[{"name":"a","stack_name":"s","containers":null}],"containers":[{"name":"x","service_name":"a","stack_name":"s"}]}`,
	"containers null, none in root": `{"version":"1","services":[{"name":"A","stack_name":"S","containers":null},{"name":"b","stack_name":"s","containers":[{"name":"y"}]}],"containers":[{"name":"y","service_name":"b","stack_name":"s"},{"name":"z","service_name":null}]}`,
	"root case differs":             `{"version":"1","services":[{"name":"A","stack_name":"S","containers":null}],"containers":[{"name":"y","service_name":"a","stack_name":"s"}]}`,
	"system stack":                  `{"version":"1","stacks":[{"name":"infra","system":true,"services":[{"name":"x"}]},null],"services":[{"name":"agent","stack_name":"infra"},{"name":"b","stack_name":"other","system":true}]}`,
	"folded keys":                   `{"VERSION":"1","Services":[{"NAME":"a","Stack_Name":"s","KIND":"externalService","External_IPs":["1.2.3.4"],"LaBeLs":{"K":"v"}}]}`,
	"kelvin and long s":             `{"version":"1","services":[{"name":"a","\u212aind":"dnsService","\u017ftate":"active"}]}`,
	"duplicate keys":                `{"version":"0","version":"1","services":[{"name":"a","name":"b","labels":{"x":"1"},"labels":{"y":"2","x":"3"},"ports":["1"],"ports":["2"]}]}`,
	"labels reset":                  `{"version":"1","services":[{"name":"a","labels":{"x":"1"},"labels":null}]}`,
	"containers reset":              `{"version":"1","services":[{"name":"a","containers":[{"name":"c"}],"containers":[]}]}`,
	"escapes":                       `{"version":"1\u0031","services":[{"name":"a\"b\\c\/d\n","labels":{"k\u00e9y":"v\u00e9\ud83d\ude00","bad\ud800":"x"}}]}`,
	"utf8":                          "{\"version\":\"1\",\"services\":[{\"name\":\"caf\xc3\xa9\",\"labels\":{\"a\":\"\xff\xfe\"}}]}",
	"label values":                  `{"version":"1","services":[{"name":"a","labels":{"f":1.5e3,"i":-0,"big":12345678901234567890,"o":{"b":[1,"x",null]},"l":[true,false],"e":""}}]}`,
	"label out of range":            `{"version":"1","services":[{"name":"a","labels":{"f":1e400}}]}`,
	"null items":                    `{"version":"1","services":[null,{"name":"a","containers":[null,"n"]}],"containers":[null]}`,
	"white space":                   " \t\r\n{ \"version\" : \"1\" , \"services\" : [ { \"name\" : \"a\" } ] } \n",
	"skipped values":                `{"hosts":[{"labels":{"a":"b"},"n":-1.25E-3,"t":true,"f":false,"z":null,"e":[],"o":{}}],"self":{},"version":"1","services":[{"name":"a","metadata":{"x":[[[]]]},"create_index":7}]}`,
	"version not text":              `{"version":{},"services":[]}`,
	"version later text":            `{"version":{},"version":"2","services":[]}`,
	"not JSON":                      `<html>`,
	"empty":                         ``,
	"array":                         `[]`,
	"truncated":                     `{"version":"1","services":[{"name":"a"`,
	"truncated string":              `{"version":"1","services":[{"name":"a`,
	"truncated escape":              `{"version":"1","services":[{"name":"a\u00`,
	"truncated literal":             `{"version":"1","services":[{"name":nu`,
	"no version":                    `{"services":[]}`,
	"no services":                   `{"version":"1"}`,
	"service not obj":               `{"version":"1","services":[5]}`,
	"service string":                `{"version":"1","services":["a"]}`,
	"container bad":                 `{"version":"1","services":[{"name":"a","containers":[7]}]}`,
	"container list":                `{"version":"1","services":[{"name":"a","containers":[[]]}]}`,
	"services not list":             `{"version":"1","services":{}}`,
	"stacks not list":               `{"version":"1","services":[],"stacks":"x"}`,
	"stack bad system":              `{"version":"1","services":[],"stacks":[{"system":"yes"}]}`,
	"name not text":                 `{"version":"1","services":[{"name":5}]}`,
	"labels not object":             `{"version":"1","services":[{"name":"a","labels":["x"]}]}`,
	"ports not list":                `{"version":"1","services":[{"name":"a","ports":"80"}]}`,
	"port not text":                 `{"version":"1","services":[{"name":"a","ports":[80]}]}`,
	"more data":                     `{"version":"1","services":[]} {}`,
	"trailing garbage":              `{"version":"1","services":[]}x`,
	"trailing NUL":                  "{\"version\":\"1\",\"services\":[]}\x00",
	"control in string":             "{\"version\":\"1\",\"services\":[{\"name\":\"a\tb\"}]}",
	"bad escape":                    `{"version":"1","services":[{"name":"a\qb"}]}`,
	"bad unicode escape":            `{"version":"1","services":[{"name":"a\u12G4"}]}`,
	"bad skipped escape":            `{"version":"1","services":[],"hosts":["\x"]}`,
	"bad number":                    `{"version":"1","services":[],"hosts":[01]}`,
	"bad number sign":               `{"version":"1","services":[],"hosts":[-]}`,
	"bad fraction":                  `{"version":"1","services":[],"hosts":[1.]}`,
	"bad exponent":                  `{"version":"1","services":[],"hosts":[1e+]}`,
	"bad literal":                   `{"version":"1","services":[],"hosts":[tru]}`,
	"bad literal tail":              `{"version":"1","services":[],"hosts":[truex]}`,
	"missing colon":                 `{"version" "1","services":[]}`,
	"missing comma":                 `{"version":"1" "services":[]}`,
	"trailing comma":                `{"version":"1","services":[],}`,
	"array trailing":                `{"version":"1","services":[{"name":"a"},]}`,
	"key not string":                `{version:"1","services":[]}`,
	"mismatched brackets":           `{"version":"1","services":[],"hosts":[}`,
}

func decodeBoth(t *testing.T, name, in string) {
	t.Helper()
	want, werr := refDecodeReader(strings.NewReader(in))
	for _, how := range []string{"whole", "byte by byte", "small buffer", "lean"} {
		var got *Snapshot
		var err error
		switch how {
		case "whole":
			got, err = Decode([]byte(in))
		case "byte by byte":
			got, err = DecodeReader(iotest.OneByteReader(strings.NewReader(in)))
		case "small buffer": // every value straddles fills, which move the buffer's bytes
			got, err = decodeTreeBuffer(strings.NewReader(in), false, 8)
		case "lean": // what the client does: lean, then in full if it must
			if got, err = decodeTreeBuffer(strings.NewReader(in), true, 16); errors.Is(err, errNeedsRoot) {
				got, err = Decode([]byte(in))
			}
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s (%s): error %v, the reference's %v", name, how, err, werr)
		}
		if diff := cmp.Diff(got, want, cmp.AllowUnexported()); diff != "" {
			t.Fatalf("%s (%s): snapshot differs from the reference's (-got +want):\n%s", name, how, diff)
		}
	}
}

func TestDecodeMatchesReference(t *testing.T) {
	for name, in := range decodeCases {
		t.Run(name, func(t *testing.T) { decodeBoth(t, name, in) })
	}
}

// TestDecodeMatchesReferenceOnEmulatorTrees decodes every version's tree of
// the project's answers and stack files as served by the emulator.
func TestDecodeMatchesReferenceOnEmulatorTrees(t *testing.T) {
	for _, file := range []string{"../metadataserver/testdata/answers.yml", "../metadataserver/testdata/simple.yml", "../metadataserver/testdata/stack.yml"} {
		a, err := metadataserver.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		for version, byClient := range a {
			b, err := json.Marshal(byClient["default"])
			if err != nil {
				t.Fatal(err)
			}
			decodeBoth(t, file+" "+version, string(b))
			var indented bytes.Buffer
			if err := json.Indent(&indented, b, "", "  "); err != nil {
				t.Fatal(err)
			}
			decodeBoth(t, file+" "+version+" indented", indented.String())
		}
	}
}

// FuzzDecodeMatchesReference: whatever the bytes, the fast decoder agrees
// with the reference decoder.
func FuzzDecodeMatchesReference(f *testing.F) {
	for _, in := range decodeCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeBoth(t, "fuzz", string(b))
	})
}

// TestLeanDecode: the root containers list is skipped unless a service
// takes containers from it.
func TestLeanDecode(t *testing.T) {
	for name, want := range map[string]bool{
		"minimal": false, "nulls": false, "refs": true, "by service": true, "containers null": true,
		"containers null, none in root": false, "root case differs": true, "null items": true,
	} {
		_, err := decodeTree(strings.NewReader(decodeCases[name]), true)
		if got := errors.Is(err, errNeedsRoot); got != want {
			t.Errorf("%s: needs the root list %v (%v), want %v", name, got, err, want)
		}
	}
}
