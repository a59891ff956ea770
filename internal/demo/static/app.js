// The demo merchant's frontend. Copy from here: only the two script URLs in
// index.html (the PG SDKs) differ from a live integration, where they point
// at the PGs' CDNs.
"use strict";

const config = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);

function show(outcome, text, body) {
  $("status").dataset.outcome = outcome;
  $("status").textContent = text;
  if (body !== undefined) $("result").textContent = JSON.stringify(body, null, 2);
}

// Your backend, holding the secret key, creates the customer and the
// pending billing key. Here the demo's stand-in does it.
async function startRegistration(provider, pg, extra) {
  const res = await fetch("/sandbox/demo/backend/registrations", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(Object.assign({provider: provider, pg: pg}, extra || {})),
  });
  const body = await res.json();
  if (!res.ok) throw body;
  $("bk-id").textContent = body.id;
  $("bk-status").textContent = body.status;
  return body;
}

// billingd's client-side calls: the publishable key, never the secret one.
async function billingd(method, path, body) {
  const res = await fetch(config.api_base + path, {
    method: method,
    headers: {"Authorization": "Bearer " + config.publishable_key, "Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const out = await res.json();
  if (!res.ok) throw out;
  return out;
}

async function confirmKey(reg, receiptID, billingKey) {
  const body = {client_secret: reg.client_secret};
  if (receiptID) body.receipt_id = receiptID;
  if (billingKey) body.billing_key = billingKey;
  const key = await billingd("POST", "/v1/billing_keys/" + encodeURIComponent(reg.id) + "/confirm", body);
  $("bk-status").textContent = key.status;
  show(key.status === "active" ? "active" : "error", "Billing key " + key.status, key);
}

function fail(err) {
  show("error", "Error: " + ((err && err.error && err.error.message) || String(err)), err);
}

// Iamport: IMP.init with the merchant code, IMP.request_pay with exactly
// billingd's client_params; the callback's rsp says how the window ended.
async function iamport(pg) {
  show("working", "Opening the " + pg + " window…");
  // Where the window returns when it redirects instead of calling back:
  // always for CHAI, on mobile for the others. Set it for every PG.
  const extra = {m_redirect_url: location.origin + location.pathname + "?flow=iamport"};
  const reg = await startRegistration("iamport", pg, extra);
  sessionStorage.setItem("billingd-demo-registration", JSON.stringify({id: reg.id, client_secret: reg.client_secret}));
  IMP.init(reg.client_init.imp_code);
  IMP.request_pay(reg.client_params, function (rsp) {
    if (!rsp.success) {
      const closed = rsp.error_msg === "사용자가 결제를 취소하셨습니다";
      show(closed ? "window-closed" : "window-failed", (closed ? "Window closed: " : "Window failed: ") + rsp.error_msg, rsp);
      return;
    }
    confirmKey(reg).catch(fail);
  });
}

// Back from a redirecting window (CHAI): m_redirect_url carries the result.
function returnFromRedirect() {
  const q = new URLSearchParams(location.search);
  if (q.get("flow") !== "iamport" || !q.has("imp_success")) return;
  const reg = JSON.parse(sessionStorage.getItem("billingd-demo-registration") || "null");
  if (!reg) return;
  $("bk-id").textContent = reg.id;
  if (q.get("imp_success") !== "true") {
    const closed = q.get("error_msg") === "사용자가 결제를 취소하셨습니다";
    show(closed ? "window-closed" : "window-failed", "Window failed: " + q.get("error_msg"), Object.fromEntries(q));
    return;
  }
  confirmKey(reg).catch(fail);
}

// Bootpay: requestSubscription resolves with event "done" and the
// receipt_id billingd confirms the key with; it rejects with event
// "cancel" (closed) or "error".
async function bootpay(pg) {
  show("working", "Opening the Bootpay window…");
  const reg = await startRegistration("bootpay", pg);
  const payload = Object.assign({application_id: reg.client_init.application_id}, reg.client_params);
  try {
    const res = await Bootpay.requestSubscription(payload);
    if (res.event !== "done") return;
    await confirmKey(reg, res.data.receipt_id);
  } catch (e) {
    if (e && e.event === "cancel") show("window-closed", "Window closed: " + e.message, e);
    else if (e && e.event === "error") show("window-failed", "Window failed: " + e.message, e);
    else fail(e);
  }
}

// PortOne V2: requestIssueBillingKey with exactly billingd's client_params.
// It never rejects: a result with code is a failure (USER_CANCEL: closed),
// one with billingKey is the key billingd confirms.
async function portone() {
  show("working", "Opening the PortOne window…");
  const reg = await startRegistration("portone", "");
  const res = await PortOne.requestIssueBillingKey(reg.client_params);
  if (res.code !== undefined) {
    const closed = res.code === "USER_CANCEL";
    show(closed ? "window-closed" : "window-failed", (closed ? "Window closed: " : "Window failed: ") + res.message, res);
    return;
  }
  await confirmKey(reg, undefined, res.billingKey);
}

// Identity: requestAuthentication, then billingd verifies the receipt
// server-side against the merchant's rules (here require.min_age).
async function certify() {
  show("working", "Opening the identity window…");
  let res;
  try {
    res = await Bootpay.requestAuthentication({
      application_id: config.bootpay_application_id, pg: "danal", method: "본인인증",
      authentication_id: "auth_" + Date.now(), order_name: "본인인증",
    });
  } catch (e) {
    show(e && e.event === "cancel" ? "window-closed" : "window-failed", "Identity window: " + (e && e.message), e);
    return;
  }
  try {
    const cert = await billingd("POST", "/v1/certifications", {
      receipt_id: res.data.receipt_id, require: {min_age: Number($("min-age").value)},
    });
    $("cert-id").textContent = cert.id;
    show("certified", "Certified: " + cert.status, cert);
  } catch (e) {
    show("cert-refused", "Refused: " + ((e && e.error && e.error.message) || String(e)), e);
  }
}

function run(fn) { return function () { fn().catch(fail); }; }
$("iamport-payco").addEventListener("click", run(() => iamport("payco")));
$("iamport-chai").addEventListener("click", run(() => iamport("chai")));
$("bootpay-nicepay").addEventListener("click", run(() => bootpay("nicepay")));
$("portone-card").addEventListener("click", run(portone));
$("certify").addEventListener("click", run(certify));
returnFromRedirect();
