module admit.local/x509-verify

go 1.21
