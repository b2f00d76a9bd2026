package writers

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// Signed manifests. A run given a private key writes, beside manifest.json,
// a detached signature of the manifest's exact bytes: the file
// SignatureName, one line
//
//	ed25519 <key id> <signature, base64>
//
// where the key id is the first 16 hex digits of the SHA-256 of the public
// key in PKIX DER form (what `openssl pkey -pubin -in pub.pem -outform DER |
// sha256sum` prints). The manifest lists every output with its SHA-256, and
// the state's trailer and run id tie the state to it, so the signature
// covers the whole run. The keys are PEM files: a PKCS#8 "PRIVATE KEY" and a
// PKIX "PUBLIC KEY", as `openssl genpkey -algorithm ed25519` and `openssl
// pkey -pubout` write them and as GenerateKeys does. Anyone can check a
// signature without claimsbatch:
//
//	cut -d' ' -f3 manifest.json.sig | base64 -d > sig.bin
//	openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in manifest.json -sigfile sig.bin
//
// Use the key for manifests only.
//
// A detached file rather than a field of the manifest: the signature is
// over the manifest's bytes as published, with nothing to leave out or
// canonicalise first, and a run's manifest (and so its hash, which the next
// night's state_in records) is the same signed or not.

// Errors of the signature functions.
var (
	// ErrKey: a key file is not an Ed25519 key in the PEM forms above.
	ErrKey = errors.New("writers: not an Ed25519 key")
	// ErrSignature: a signature file is malformed, made with another key,
	// or does not match the manifest's bytes.
	ErrSignature = errors.New("writers: manifest signature does not verify")
)

// SignManifest returns the content of the signature file of manifest.
func SignManifest(key ed25519.PrivateKey, manifest []byte) []byte {
	sig := ed25519.Sign(key, manifest)
	return fmt.Appendf(nil, "ed25519 %s %s\n", KeyID(key.Public().(ed25519.PublicKey)), base64.StdEncoding.EncodeToString(sig))
}

// VerifyManifest checks a signature file against manifest and the public
// key; the error wraps ErrSignature and says why.
func VerifyManifest(pub ed25519.PublicKey, manifest, sigFile []byte) error {
	fields := bytes.Fields(sigFile)
	if len(fields) != 3 || string(fields[0]) != "ed25519" {
		return fmt.Errorf("%w: %s is not \"ed25519 <key id> <signature>\"", ErrSignature, SignatureName)
	}
	if id := KeyID(pub); string(fields[1]) != id {
		return fmt.Errorf("%w: signed with key %.16s, the key given is %s", ErrSignature, fields[1], id)
	}
	sig, err := base64.StdEncoding.DecodeString(string(fields[2]))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: the signature is not %d bytes of base64", ErrSignature, ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, manifest, sig) {
		return fmt.Errorf("%w: %s was changed after it was signed", ErrSignature, ManifestName)
	}
	return nil
}

// KeyID names a public key: the first 16 hex digits of the SHA-256 of its
// PKIX DER form.
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "invalid"
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}

// ParsePrivateKey reads a PEM "PRIVATE KEY" (PKCS#8) holding an Ed25519 key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: want a PEM \"PRIVATE KEY\" block (openssl genpkey -algorithm ed25519, or claimsbatch keygen)", ErrKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: the key is a %T", ErrKey, k)
	}
	return priv, nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" (PKIX) holding an Ed25519 key.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%w: want a PEM \"PUBLIC KEY\" block (openssl pkey -in key.pem -pubout, or claimsbatch keygen)", ErrKey)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the key is not Ed25519", ErrKey)
	}
	return pub, nil
}

// GenerateKeys makes a new Ed25519 key pair as PEM files: the private key
// (PKCS#8) and the public key (PKIX).
func GenerateKeys() (private, public []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pk}), nil
}
