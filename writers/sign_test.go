package writers

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignManifest covers issue 12, finding 4 (signed manifests): a
// signature checks with its public key, and no longer once the manifest is
// edited or with another key.
func TestSignManifest(t *testing.T) {
	privPEM, pubPEM, err := GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	manifest := []byte(`{"run_id": "run-1", "control_totals": {"per_currency": [{"plan_paid": "100.00"}]}}` + "\n")
	sig := SignManifest(priv, manifest)
	if f := strings.Fields(string(sig)); len(f) != 3 || f[0] != "ed25519" || f[1] != KeyID(pub) || !strings.HasSuffix(string(sig), "\n") {
		t.Fatalf("signature file %q", sig)
	}
	if err := VerifyManifest(pub, manifest, sig); err != nil {
		t.Fatalf("VerifyManifest = %v", err)
	}
	edited := []byte(strings.Replace(string(manifest), "100.00", "900.00", 1))
	if err := VerifyManifest(pub, edited, sig); !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "manifest.json was changed after it was signed") {
		t.Errorf("edited manifest: %v", err)
	}
	_, otherPEM, _ := GenerateKeys()
	other, _ := ParsePublicKey(otherPEM)
	if err := VerifyManifest(other, manifest, sig); !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "signed with key "+KeyID(pub)+", the key given is "+KeyID(other)) {
		t.Errorf("another key: %v", err)
	}
	if err := VerifyManifest(pub, manifest, []byte("garbage\n")); !errors.Is(err, ErrSignature) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := ParsePrivateKey(pubPEM); !errors.Is(err, ErrKey) {
		t.Errorf("a public key as the private one: %v", err)
	}
	if _, err := ParsePublicKey([]byte("not pem")); !errors.Is(err, ErrKey) {
		t.Errorf("not PEM: %v", err)
	}
}

// TestSignatureOpenSSL checks the keys and the signature against OpenSSL,
// the tool the README tells auditors to use.
func TestSignatureOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	keyPath, pubPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	run("genpkey", "-algorithm", "ed25519", "-out", keyPath)
	run("pkey", "-in", keyPath, "-pubout", "-out", pubPath)
	keyPEM, _ := os.ReadFile(keyPath)
	pubPEM, _ := os.ReadFile(pubPath)
	priv, err := ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePublicKey(pubPEM); err != nil {
		t.Fatal(err)
	}
	manifest := []byte("{\"run_id\": \"run-1\"}\n")
	mPath := filepath.Join(dir, "manifest.json")
	os.WriteFile(mPath, manifest, 0o644)
	raw := strings.Fields(string(SignManifest(priv, manifest)))[2]
	sigPath := filepath.Join(dir, "sig.b64")
	os.WriteFile(sigPath, []byte(raw+"\n"), 0o644)
	run("base64", "-d", "-in", sigPath, "-out", filepath.Join(dir, "sig.bin"))
	run("pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", mPath, "-sigfile", filepath.Join(dir, "sig.bin"))
	// And keys made by GenerateKeys are OpenSSL's.
	privPEM, _, _ := GenerateKeys()
	os.WriteFile(keyPath, privPEM, 0o600)
	run("pkey", "-in", keyPath, "-noout")
}
