package devstack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infersweep/infersweep/workers"
)

// writeCerts makes a CA and one certificate it signs for 127.0.0.1 and
// localhost, usable by servers and clients alike.
func writeCerts(t *testing.T, dir string) TLSFiles {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "infersweep test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	write := func(name, kind string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
		return path
	}
	return TLSFiles{CAFile: write("ca.pem", "CERTIFICATE", caDER), CertFile: write("cert.pem", "CERTIFICATE", der),
		KeyFile: write("key.pem", "EC PRIVATE KEY", keyDER), ServerName: "localhost"}
}

// TestMutualTLS runs the embedded server as production runs Temporal:
// the frontend requires client certificates. A worker configured through
// INFERSWEEP_TEMPORAL_TLS_* runs a workflow; a client without a
// certificate is refused.
func TestMutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	files := writeCerts(t, t.TempDir())
	stack := startStack(t, Options{Ephemeral: true, TLS: &files})
	defer stopStack(t, stack)
	require.True(t, stack.Temporal.UsesTLS())

	// The worker's configuration, as a production worker reads it.
	for _, kv := range [][2]string{
		{"INFERSWEEP_TEMPORAL_ADDRESS", stack.Temporal.Address}, {"INFERSWEEP_TEMPORAL_TLS_CERT", files.CertFile},
		{"INFERSWEEP_TEMPORAL_TLS_KEY", files.KeyFile}, {"INFERSWEEP_TEMPORAL_TLS_CA", files.CAFile}, {"INFERSWEEP_TEMPORAL_TLS_SERVER_NAME", "localhost"},
	} {
		t.Setenv(kv[0], kv[1])
	}
	cfg, err := workers.LoadTemporalConfig()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := workers.Dial(ctx, cfg, nil)
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "swept mtls", runTaggedWorkflow(t, c, "mtls"))

	// Without a client certificate the handshake fails.
	noCert := cfg
	noCert.TLSCertFile, noCert.TLSKeyFile = "", ""
	short, cancelShort := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShort()
	if c2, err := workers.Dial(short, noCert, nil); err == nil {
		c2.Close()
		t.Fatal("a client without a certificate was let in")
	}
}
