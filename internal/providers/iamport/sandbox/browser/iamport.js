/*
 * billingd sandbox — a drop-in for Iamport's (PortOne V1) browser SDK,
 * https://cdn.iamport.kr/v1/iamport.js, served by billingd in test mode
 * only. Swap the script's URL for {billingd}/sandbox/iamport/iamport.js and
 * the rest of the merchant's code stays as it is. Nothing is loaded from
 * outside billingd.
 *
 * What it defines, and the shapes it answers with (sources:
 * shared/reference/iamport.md §9–10, which cites PortOne's
 * developers.portone.io v1-sdk javascript-sdk pages payrq.mdx / payrt.mdx and
 * the RequestPayResponse typings):
 *
 *   IMP.init(imp_code)            the 가맹점 식별코드 ("imp" + 8 digits).
 *   IMP.request_pay(params, cb)   opens the sandbox window over the page (an
 *                                 iframe layer, as the real SDK does on PC);
 *                                 cb(rsp) is called once, when it closes.
 *
 *   rsp = {success, error_code, error_msg, imp_uid, merchant_uid,
 *          pay_method, pg_provider, pg_type, name, paid_amount, currency,
 *          buyer_name, buyer_email, buyer_tel, custom_data,
 *          card_name, card_number}               (card_* on success only)
 *   A key issuance moves no money: imp_uid is null and paid_amount 0.
 *   customer_uid is not in rsp (the docs say so: keep it from your request).
 *   User closed the window: success false,
 *     error_msg "사용자가 결제를 취소하셨습니다" (the text merchants match on);
 *     error_code "F1001" is this sandbox's own (PG modules vary).
 *   Refused parameters: success false, error_code "F400", error_msg why.
 *
 * Redirect flows: when params.m_redirect_url is set and the PG always
 * redirects (CHAI) or the device is mobile, the page itself goes to the
 * window, which then returns to
 *   {m_redirect_url}?imp_uid=…&merchant_uid=…&imp_success=true|false
 *   [&error_code=…&error_msg=…]
 * and cb is never called, as with the real SDK.
 *
 * Checked before the window opens, as the SDK does: IMP.init was called,
 * params is an object, cb (when given) is a function. The window checks the
 * rest on the PG's rules (customer_uid required, PAYCO/KakaoPay/KICC need
 * pay_method "card", CHAI needs pay_method "trans" and m_redirect_url).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/[^\/]*$/, "") : "/sandbox/iamport/";
  var impCode = null;
  var open = null; // the window layer in use

  function fail(cb, code, msg) {
    var rsp = {success: false, error_code: code, error_msg: msg, imp_uid: null, merchant_uid: null};
    if (typeof cb === "function") setTimeout(function () { cb(rsp); }, 0);
  }

  function windowURL(params, mode) {
    var q = new URLSearchParams({imp_code: impCode, params: JSON.stringify(params), mode: mode, origin: location.origin});
    return base + "sandbox/checkout?" + q.toString();
  }

  function redirects(params) {
    if (!params.m_redirect_url) return false;
    var pg = String(params.pg || "").split(".")[0];
    return pg === "chai" || /Mobi|Android|iPhone/i.test(navigator.userAgent);
  }

  function request_pay(params, cb) {
    if (!impCode) return fail(cb, "F400", "IMP.init()을 먼저 호출해주세요.");
    if (!params || typeof params !== "object") return fail(cb, "F400", "결제 요청 파라미터가 없습니다.");
    if (cb !== undefined && typeof cb !== "function") throw new TypeError("IMP.request_pay: callback must be a function");
    if (open) return fail(cb, "F400", "이미 결제창이 열려 있습니다.");
    if (redirects(params)) {
      location.href = windowURL(params, "redirect");
      return;
    }
    var layer = document.createElement("div");
    layer.id = "imp-sandbox-layer";
    layer.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;background:rgba(15,20,35,.55)");
    var frame = document.createElement("iframe");
    frame.id = "imp-sandbox-frame";
    frame.title = "Iamport sandbox payment window";
    frame.src = windowURL(params, "iframe");
    frame.setAttribute("style", "border:0;width:100%;height:100%;background:transparent");
    layer.appendChild(frame);
    document.body.appendChild(layer);
    open = {layer: layer, frame: frame, cb: cb};
  }

  window.addEventListener("message", function (ev) {
    if (!open || ev.source !== open.frame.contentWindow) return;
    var data = ev.data || {};
    if (data.billingdSandbox !== "iamport" || !data.rsp) return;
    var o = open;
    open = null;
    o.layer.remove();
    if (typeof o.cb === "function") o.cb(data.rsp);
  });

  window.IMP = {
    init: function (code) { impCode = String(code || ""); },
    request_pay: request_pay,
    sandbox: true
  };
})();
