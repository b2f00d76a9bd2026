package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"claimsbatch/writers"

	"github.com/spf13/cobra"
)

func newKeygenCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "keygen PRIVATE_KEY_FILE PUBLIC_KEY_FILE",
		Short: "Make an Ed25519 key pair for signing run manifests",
		Long: `keygen writes a new Ed25519 key pair as PEM files: the private key
(PKCS#8, mode 0600) for 'claimsbatch run --sign-key', and the public key
(PKIX) for 'claimsbatch verify --key'. It never overwrites a file.

The files are the ones OpenSSL writes, so either tool will do:

  openssl genpkey -algorithm ed25519 -out manifest-key.pem
  openssl pkey -in manifest-key.pem -pubout -out manifest-key.pub

Keep the private key readable only by the account that runs claimsbatch;
give the public key to whoever checks the runs (finance, auditors).`,
		Example: `  claimsbatch keygen /etc/claimsbatch/manifest-key.pem /etc/claimsbatch/manifest-key.pub`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("keygen takes two files: the private key's and the public key's (see 'claimsbatch keygen --help')")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			priv, pub, err := writers.GenerateKeys()
			if err != nil {
				return err
			}
			if err := writeNew(args[0], priv, 0o600); err != nil {
				return err
			}
			if err := writeNew(args[1], pub, 0o644); err != nil {
				os.Remove(args[0])
				return err
			}
			key, _ := writers.ParsePublicKey(pub)
			fmt.Fprintf(stdout, "key %s: private key %s, public key %s\n", writers.KeyID(key), args[0], args[1])
			return nil
		},
	}
}

// writeNew writes a file that must not exist yet, with mode perm.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return usageError{fmt.Errorf("%s exists: keygen never overwrites a key", path)}
	}
	if err != nil {
		return usageError{err}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// loadPrivateKey reads --sign-key; any problem is a usage error (exit 2).
func loadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("--sign-key: %w", err)}
	}
	key, err := writers.ParsePrivateKey(data)
	if err != nil {
		return nil, usageError{fmt.Errorf("--sign-key %s: %w", path, err)}
	}
	return key, nil
}

// loadPublicKey reads verify's --key; any problem is a usage error (exit 2).
func loadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("--key: %w", err)}
	}
	key, err := writers.ParsePublicKey(data)
	if err != nil {
		return nil, usageError{fmt.Errorf("--key %s: %w", path, err)}
	}
	return key, nil
}
