package emulator

import (
	"encoding/base64"
	"errors"
	"strconv"
)

// Paging, shared by Graph ($top, @odata.nextLink with $skiptoken, WIRE §C0)
// and the admin API (Prefer: odata.maxpagesize, @odata.nextLink to re-POST,
// §E2). The skiptoken is the next page's offset in unpadded base64url,
// opaque to clients; each surface writes its own nextLink around it.

// pageAt cuts a page of at most size objects at offset; next is the
// skiptoken of the following page, "" when this is the last one.
func pageAt(objects []jsonObject, offset, size int) (page []jsonObject, next string) {
	page = []jsonObject{}
	if offset >= 0 && offset < len(objects) {
		page = objects[offset:min(offset+size, len(objects))]
	}
	if offset+size < len(objects) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset + size)))
	}
	return page, next
}

// pageOffset reads a skiptoken back: 0 for none, an error (with the offset
// as far as it could be read) for a token that is not one of pageAt's.
func pageOffset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	n, convErr := strconv.Atoi(string(raw))
	return n, errors.Join(err, convErr)
}
