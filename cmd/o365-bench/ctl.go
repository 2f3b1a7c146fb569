package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// emulatorInfo is what o365-emulator -info-file writes.
type emulatorInfo struct {
	URL          string `json:"url"`
	CAFile       string `json:"ca_file"`
	ControlToken string `json:"control_token"`
	TenantID     string `json:"tenant_id"`
	PID          int    `json:"pid"`
}

type control struct {
	info emulatorInfo
	hc   *http.Client
}

func newControl(infoFile string) (*control, error) {
	b, err := os.ReadFile(infoFile)
	if err != nil {
		return nil, err
	}
	var info emulatorInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", infoFile, err)
	}
	ca, err := os.ReadFile(info.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New(info.CAFile + ": no certificate")
	}
	return &control{info: info, hc: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}}, nil
}

// do calls the control API and returns the body; non-2xx is an error.
func (c *control) do(method, path, body string) ([]byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, strings.TrimRight(c.info.URL, "/")+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.info.ControlToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

func cmdCtl(args []string) error {
	fs := flag.NewFlagSet("ctl", flag.ExitOnError)
	infoFile := fs.String("info", "", "emulator info file")
	_ = fs.Parse(args)
	if fs.NArg() < 2 {
		return errors.New("ctl: METHOD PATH [BODY]")
	}
	c, err := newControl(*infoFile)
	if err != nil {
		return err
	}
	b, err := c.do(fs.Arg(0), fs.Arg(1), fs.Arg(2))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(b)
	return err
}
