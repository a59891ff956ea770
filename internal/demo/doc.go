// Package demo is billingd's demo checkout at /sandbox/demo: a small page
// written the way a merchant's frontend would be, and the example merchants
// copy from. It registers a card with each PG through the drop-in sandbox
// scripts (/sandbox/iamport/iamport.js, /sandbox/bootpay/bootpay.js,
// /sandbox/portone/browser-sdk.js),
// confirms it with the publishable key and the registration's
// client_secret, and certifies an identity.
//
// It is the merchant's side, so it calls billingd only through the public
// API, over HTTP, like any merchant would: the part that needs the secret key
// (creating the customer and the pending billing key) is a tiny
// demo-backend endpoint under /sandbox/demo/backend/, standing in for the
// merchant's server. New refuses anything but test keys, and billingd
// mounts the demo only in test mode (`billingd dev`), so a live key never
// reaches it.
//
// Its browser tests (browser_test.go) drive the page in headless Chromium
// with chromedp: a real browser runs the same JavaScript a merchant's
// customer would, through the real iframe layer, postMessage, redirects and
// CORS, which no HTTP-level test can. chromedp over the DevTools protocol
// needs no driver binary and no downloaded browser (Debian's chromium
// package is enough); one browser serves the whole test binary, a tab per
// test.
package demo
