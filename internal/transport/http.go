package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// NewHTTPClient returns the client shared by every Microsoft API client: the system roots
// plus caPEM (the provider's ca_certificate_file, e.g. the emulated tenant's CA), TLS 1.2 or
// newer, keep-alive connections pooled per host. TLS verification is never switched off.
// There is no overall Client.Timeout: each call is bounded by its context (the resource's
// timeouts), and the transport bounds the phases that can hang.
func NewHTTPClient(caPEM []byte) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if len(caPEM) > 0 && !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("ca_certificate_file: no PEM certificate found")
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 3 * time.Minute, // cmdlets and EWS calls can be slow
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr}, nil
}

// RetryableStatus reports whether an HTTP status means "not processed, try again later":
// 429 (throttled), 408, 503 and 504. Other 4xx are final.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusRequestTimeout, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// AmbiguousStatus reports whether a write that got this status may nevertheless have been
// applied (the gateway gave up waiting). 429 and 408 mean the request was not processed.
func AmbiguousStatus(code int) bool {
	return code >= 500
}

// IsTransientNetError reports whether err is a connection failure worth another attempt:
// a reset or closed connection, an unexpected EOF, a refused connection, a network timeout.
// The caller decides whether the request was safe to repeat. Context cancellation is never
// transient.
func IsTransientNetError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// NotSent reports whether err proves the request never reached the server (dial or
// connection refused), so even a non-idempotent write may be repeated.
func NotSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// readBody reads at most limit bytes of a response body and closes it.
func readBody(r io.ReadCloser, limit int64) ([]byte, error) {
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, limit))
}
