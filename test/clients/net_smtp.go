// Go's net/smtp with nothing but the address: smtp.SendMail upgrades whenever STARTTLS is offered and verifies
// the certificate against the system roots (SSL_CERT_FILE when the test sets it). Standard library only.
package main

import (
	"fmt"
	"net/smtp"
	"os"
)

func main() {
	raw, err := os.ReadFile(os.Getenv("MP_RAW"))
	if err == nil {
		addr := os.Getenv("MP_HOST") + ":" + os.Getenv("MP_PORT")
		err = smtp.SendMail(addr, nil, os.Getenv("MP_FROM"), []string{os.Getenv("MP_TO")}, raw)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
