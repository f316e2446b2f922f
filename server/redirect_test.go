package server

import "testing"

func TestLocalPathKeepsRedirectsOnThisSite(t *testing.T) {
	tests := map[string]string{
		"/upload?period=2025-12": "/upload?period=2025-12",
		"/townships/dongcheng":   "/townships/dongcheng",
		"":                       "/upload",
		"https://evil.example/":  "/upload",
		"//evil.example/x":       "/upload",
		"/\t/evil.example/x":     "/upload", // browsers drop the tab: //evil.example
		"/\n/evil.example":       "/upload",
		"/\\evil.example":        "/upload",
		"/\x7f/x":                "/upload",
		"relative/path":          "/upload",
	}
	for in, want := range tests {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
