/*
 * billingd sandbox — a drop-in for PortOne V2's browser SDK
 * (https://cdn.portone.io/v2/browser-sdk.js / npm @portone/browser-sdk),
 * served by billingd in test mode only. Swap the script's URL for
 * {billingd}/sandbox/portone/browser-sdk.js; the rest of the merchant's
 * code stays as it is. Nothing is loaded from outside billingd.
 *
 * What it defines, and the shapes it settles with (source:
 * shared/reference/portone-v2.md §2, citing the browser SDK's
 * IssueBillingKeyRequestBase and developers.portone.io
 * start/v2/billing/issue.mdx):
 *
 *   PortOne.requestIssueBillingKey(params) → Promise
 *     params: {storeId, billingKeyMethod ("CARD"), channelKey, issueId?,
 *              issueName?, customer?{customerId, fullName, phoneNumber,
 *              email}, displayAmount?, currency?, noticeUrls?, customData?}
 *     resolves {transactionType: "ISSUE_BILLING_KEY", billingKey}
 *     or, when the call failed, {transactionType: "ISSUE_BILLING_KEY",
 *              code, message, pgCode?, pgMessage?}
 *   As the real SDK, it resolves with the error object rather than
 *   rejecting: the merchant checks `code`. Codes: the sandbox window
 *   endpoint's (INVALID_REQUEST, CHANNEL_NOT_FOUND, ALREADY_ISSUED,
 *   FAILURE_TYPE_PG for a refused card); FAILURE_TYPE_PG also for the
 *   window's Fail button; USER_CANCEL for closing the window (this
 *   sandbox's own name).
 *
 * Checked before the window opens, as the SDK does: params is an object
 * with storeId, billingKeyMethod and channelKey (the SDK also takes the
 * deprecated pgProvider; the sandbox has no channel without a key), and
 * no window is already open.
 *
 * The window opens over the page (an iframe layer, PortOne's PC flow).
 * Not simulated: the mobile redirect flow (redirectUrl), which the real
 * SDK takes on mobile browsers.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/[^\/]*$/, "") : "/sandbox/portone/";
  var open = null;

  function failed(code, msg) {
    return Promise.resolve({transactionType: "ISSUE_BILLING_KEY", code: code, message: msg});
  }

  function requestIssueBillingKey(params) {
    if (!params || typeof params !== "object") return failed("INVALID_REQUEST", "params가 없습니다.");
    var missing = ["storeId", "billingKeyMethod", "channelKey"].filter(function (k) { return !params[k]; });
    if (missing.length) return failed("INVALID_REQUEST", missing.join(", ") + "는 필수입니다.");
    if (["CARD", "EASY_PAY", "MOBILE", "PAYPAL"].indexOf(params.billingKeyMethod) < 0)
      return failed("INVALID_REQUEST", "billingKeyMethod가 올바르지 않습니다: " + params.billingKeyMethod);
    if (open) return failed("INVALID_REQUEST", "이미 결제창이 열려 있습니다.");
    return new Promise(function (resolve) {
      var q = new URLSearchParams({params: JSON.stringify(params), origin: location.origin});
      var layer = document.createElement("div");
      layer.id = "portone-sandbox-layer";
      layer.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;background:rgba(15,20,35,.55)");
      var frame = document.createElement("iframe");
      frame.id = "portone-sandbox-frame";
      frame.title = "PortOne sandbox window";
      frame.src = base + "sandbox/window?" + q.toString();
      frame.setAttribute("style", "border:0;width:100%;height:100%;background:transparent");
      layer.appendChild(frame);
      document.body.appendChild(layer);
      open = {layer: layer, frame: frame, resolve: resolve};
    });
  }

  window.addEventListener("message", function (ev) {
    if (!open || ev.source !== open.frame.contentWindow) return;
    var data = ev.data || {};
    if (data.billingdSandbox !== "portone" || !data.res) return;
    var o = open;
    open = null;
    o.layer.remove();
    o.resolve(data.res);
  });

  window.PortOne = {requestIssueBillingKey: requestIssueBillingKey, sandbox: true};
})();
