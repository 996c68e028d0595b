// x509-verify: a second verifier for Admit's X.509 corpus comparison (scripts/limbo-compare.ts),
// built from Go's standard library alone (crypto/x509), so it needs no module download.
//
// It reads one JSON case per line on stdin and writes one JSON verdict per line on stdout:
//
//	{"id": "...", "peer": PEM, "intermediates": [PEM], "roots": [PEM], "crls": [PEM],
//	 "time": RFC 3339 or "", "eku": "clientAuth" | "serverAuth" | "any",
//	 "dnsName": "", "ipAddress": "", "maxDepth": -1 or the most non-self-issued intermediates}
//	→ {"id": "...", "ok": true|false, "error": "why it was refused"}
//
// The checks are Go's own x509.Certificate.Verify (path building, validity at the given time, the
// extended key usage, name constraints, the peer name through VerifyHostname), plus two that Verify
// does not make: the maximum depth, counted as Admit's --max-depth counts it, and the supplied CRLs
// (signed by the certificate's issuer in the chain, serial not listed).
package main

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

type testCase struct {
	ID            string   `json:"id"`
	Peer          string   `json:"peer"`
	Intermediates []string `json:"intermediates"`
	Roots         []string `json:"roots"`
	CRLs          []string `json:"crls"`
	Time          string   `json:"time"`
	EKU           string   `json:"eku"`
	DNSName       string   `json:"dnsName"`
	IPAddress     string   `json:"ipAddress"`
	MaxDepth      int      `json:"maxDepth"`
}

type verdict struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func certificates(texts []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, text := range texts {
		rest := []byte(text)
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, cert)
		}
	}
	return out, nil
}

func revocationLists(texts []string) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	for _, text := range texts {
		rest := []byte(text)
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			crl, err := x509.ParseRevocationList(block.Bytes)
			if err != nil {
				return nil, err
			}
			out = append(out, crl)
		}
	}
	return out, nil
}

var usages = map[string]x509.ExtKeyUsage{
	"clientAuth": x509.ExtKeyUsageClientAuth,
	"serverAuth": x509.ExtKeyUsageServerAuth,
	"any":        x509.ExtKeyUsageAny,
}

// depth counts a chain's intermediates that are not self-issued (RFC 5280 6.1.4 (l)), as Admit does.
func depth(chain []*x509.Certificate) int {
	n := 0
	for _, c := range chain[1 : len(chain)-1] {
		if !bytes.Equal(c.RawSubject, c.RawIssuer) {
			n++
		}
	}
	return n
}

// revoked checks each certificate of the chain but the anchor against the CRLs its issuer signed.
func revoked(chain []*x509.Certificate, crls []*x509.RevocationList, at time.Time) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		for _, crl := range crls {
			if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) {
				continue
			}
			if err := crl.CheckSignatureFrom(issuer); err != nil {
				return fmt.Errorf("CRL of %s: %w", issuer.Subject, err)
			}
			if !crl.NextUpdate.IsZero() && at.After(crl.NextUpdate) {
				return fmt.Errorf("CRL of %s is stale", issuer.Subject)
			}
			for _, entry := range crl.RevokedCertificateEntries {
				if entry.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return fmt.Errorf("%s is revoked", cert.Subject)
				}
			}
		}
	}
	return nil
}

func verify(c testCase) error {
	peers, err := certificates([]string{c.Peer})
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	if len(peers) == 0 {
		return errors.New("no peer certificate")
	}
	intermediates, err := certificates(c.Intermediates)
	if err != nil {
		return fmt.Errorf("intermediate: %w", err)
	}
	roots, err := certificates(c.Roots)
	if err != nil {
		return fmt.Errorf("root: %w", err)
	}
	crls, err := revocationLists(c.CRLs)
	if err != nil {
		return fmt.Errorf("CRL: %w", err)
	}
	usage, known := usages[c.EKU]
	if !known {
		return fmt.Errorf("unknown eku %q", c.EKU)
	}
	opts := x509.VerifyOptions{
		Roots:         x509.NewCertPool(),
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{usage},
	}
	for _, r := range roots {
		opts.Roots.AddCert(r)
	}
	for _, i := range intermediates {
		opts.Intermediates.AddCert(i)
	}
	if c.Time != "" {
		at, err := time.Parse(time.RFC3339, c.Time)
		if err != nil {
			return fmt.Errorf("time: %w", err)
		}
		opts.CurrentTime = at
	}
	// VerifyHostname takes an IP address as well as a DNS name.
	if c.DNSName != "" {
		opts.DNSName = c.DNSName
	} else if c.IPAddress != "" {
		opts.DNSName = c.IPAddress
	}
	chains, err := peers[0].Verify(opts)
	if err != nil {
		return err
	}
	at := opts.CurrentTime
	if at.IsZero() {
		at = time.Now()
	}
	var last error
	for _, chain := range chains {
		if c.MaxDepth >= 0 && depth(chain) > c.MaxDepth {
			last = fmt.Errorf("chain of %d intermediates exceeds max depth %d", depth(chain), c.MaxDepth)
			continue
		}
		if err := revoked(chain, crls, at); err != nil {
			last = err
			continue
		}
		return nil
	}
	return last
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var c testCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, "x509-verify: bad input line:", err)
			os.Exit(2)
		}
		v := verdict{ID: c.ID, OK: true}
		if err := verify(c); err != nil {
			v = verdict{ID: c.ID, OK: false, Error: err.Error()}
		}
		if err := out.Encode(v); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "x509-verify:", err)
		os.Exit(2)
	}
}
