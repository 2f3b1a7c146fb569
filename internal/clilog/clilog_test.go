package clilog

import (
	"errors"
	"reflect"
	"testing"
)

func TestProviderLinesShown(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"TF_LOG=TRACE", map[string]string{"TF_LOG": "TRACE"}, true},
		{"TF_LOG=debug (any case)", map[string]string{"TF_LOG": "debug"}, true},
		{"TF_LOG=ERROR", map[string]string{"TF_LOG": "ERROR"}, true},
		{"TF_LOG=JSON is TRACE", map[string]string{"TF_LOG": "JSON"}, true},
		{"TF_LOG of no level is TRACE", map[string]string{"TF_LOG": "verbose"}, true},
		{"TF_LOG=off", map[string]string{"TF_LOG": "off"}, false},
		{"TF_LOG_PROVIDER alone", map[string]string{"TF_LOG_PROVIDER": "DEBUG"}, true},
		{"TF_LOG_PROVIDER=OFF wins over TF_LOG", map[string]string{"TF_LOG": "TRACE", "TF_LOG_PROVIDER": "OFF"}, false},
		{"TF_LOG_PROVIDER wins over TF_LOG=off", map[string]string{"TF_LOG": "OFF", "TF_LOG_PROVIDER": "TRACE"}, true},
		{"TF_LOG_CORE is the CLI's own", map[string]string{"TF_LOG_CORE": "TRACE"}, false},
		{"TF_LOG_PATH alone sets no level", map[string]string{"TF_LOG_PATH": "/tmp/tf.log"}, false},
		{"TF_LOG_CLOUD is another plugin's", map[string]string{"TF_LOG_CLOUD": "TRACE"}, false},
		{"the SDK's own variables are read by the provider only", map[string]string{"TF_LOG_SDK": "TRACE", "TF_LOG_SDK_PROTO": "TRACE", "TF_LOG_SDK_FRAMEWORK": "TRACE", "TF_LOG_PROVIDER_O365": "TRACE"}, false},
		{"TF_TEMP_LOG_PATH records every line", map[string]string{"TF_TEMP_LOG_PATH": "/tmp/tf-temp.log"}, true},
		{"TF_TEMP_LOG_PATH whatever the levels", map[string]string{"TF_TEMP_LOG_PATH": "/tmp/tf-temp.log", "TF_LOG": "OFF"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ProviderLinesShown(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("ProviderLinesShown(%v) = %v, want %v", tc.env, got, tc.want)
			}
		})
	}
}

func TestSilenceSDK(t *testing.T) {
	set := map[string]string{}
	if err := SilenceSDK(func(k, v string) error { set[k] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF", "TF_LOG_PROVIDER_O365": "OFF"}
	if !reflect.DeepEqual(set, want) {
		t.Errorf("set %v, want %v", set, want)
	}
	boom := errors.New("boom")
	if err := SilenceSDK(func(string, string) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("error %v, want %v", err, boom)
	}
}
