/*
 * billingd sandbox — a drop-in for Bootpay's browser SDK (JS SDK 5.x,
 * https://js.bootpay.co.kr/bootpay-5.x.js / npm @bootpay/client-js), served
 * by billingd in test mode only. Swap the script's URL for
 * {billingd}/sandbox/bootpay/bootpay.js and the rest of the merchant's code
 * stays as it is. Nothing is loaded from outside billingd.
 *
 * What it defines, and the shapes it settles with (sources:
 * shared/reference/bootpay.md §7–9, citing bootpay/gitbook client/auth.md,
 * client/subscription, bootpay/bootpay-mcp examples/authentication.md and
 * llms.txt; the event names as Bootpay's own wrappers branch on them, e.g.
 * bootpay/bootpay_flutter example/web/bootpay_api.js):
 *
 *   Bootpay.requestSubscription(payload) → Promise
 *     payload: {application_id, pg, price (0 for a key), order_name,
 *               subscription_id, user?, extra?, metadata?}
 *     resolves {event: "done", data: {receipt_id, subscription_id, pg,
 *               method: "카드자동", price, order_name, status: 11, metadata}}
 *     The done event carries the receipt_id only as far as the key goes:
 *     the server looks the key up (GET /v2/subscribe/billing_key/{receipt_id}).
 *   Bootpay.requestAuthentication(payload) → Promise
 *     payload: {application_id, pg: "danal", method: "본인인증"|"auth",
 *               authentication_id, order_name?, user?, extra?}
 *     resolves {event: "done", data: {receipt_id, authentication_id, pg,
 *               method: "본인인증", status: 12, metadata}}
 *   Both reject with {event: "error", error_code, message, pg_error_code?}
 *   when refused, and {event: "cancel", error_code, message} when the user
 *   closes the window. error_code values come from Bootpay's REST errors
 *   where the reference names one (SUBSCRIBE_PUBLISH_FAILED,
 *   AUTH_NOT_CONFIRMED, AUTH_NEED_PG_METHOD, INVALID_PARAMETER,
 *   APP_KEY_NOT_FOUND); USER_CANCEL is this sandbox's own.
 *   Bootpay.requestPayment rejects: the sandbox simulates key issuance and
 *   identity only. Bootpay.destroy() closes an open window without settling.
 *
 * The window opens over the page (an iframe layer, Bootpay's default on
 * PC). With extra.open_type "redirect" and extra.redirect_url, the page goes
 * to the window instead, which returns to
 *   {redirect_url}?event=done&receipt_id=…   or  ?event=cancel|error&error_code=…&message=…
 * and the promise never settles, as with a real redirect.
 *
 * Checked before the window opens, as the SDK does: payload is an object
 * with application_id, and no window is already open. The window checks the
 * rest (subscription_id, order_name, price, a PG that issues keys in the
 * window; authentication_id and pg danal).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/[^\/]*$/, "") : "/sandbox/bootpay/";
  var open = null;

  function refuse(code, msg) {
    return Promise.reject({event: "error", error_code: code, message: msg});
  }

  function windowURL(kind, payload, mode) {
    var q = new URLSearchParams({kind: kind, payload: JSON.stringify(payload), mode: mode, origin: location.origin});
    return base + "sandbox/checkout?" + q.toString();
  }

  function request(kind, payload) {
    if (!payload || typeof payload !== "object") return refuse("INVALID_PARAMETER", "payload가 없습니다.");
    if (!payload.application_id) return refuse("INVALID_PARAMETER", "application_id는 필수입니다.");
    if (open) return refuse("INVALID_PARAMETER", "이미 결제창이 열려 있습니다.");
    var extra = payload.extra || {};
    if (extra.open_type === "redirect") {
      if (!extra.redirect_url) return refuse("INVALID_PARAMETER", "open_type redirect에는 extra.redirect_url이 필요합니다.");
      location.href = windowURL(kind, payload, "redirect");
      return new Promise(function () {});
    }
    return new Promise(function (resolve, reject) {
      var layer = document.createElement("div");
      layer.id = "bootpay-sandbox-layer";
      layer.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;background:rgba(15,20,35,.55)");
      var frame = document.createElement("iframe");
      frame.id = "bootpay-sandbox-frame";
      frame.title = "Bootpay sandbox window";
      frame.src = windowURL(kind, payload, "iframe");
      frame.setAttribute("style", "border:0;width:100%;height:100%;background:transparent");
      layer.appendChild(frame);
      document.body.appendChild(layer);
      open = {layer: layer, frame: frame, resolve: resolve, reject: reject};
    });
  }

  function close() {
    var o = open;
    open = null;
    if (o) o.layer.remove();
    return o;
  }

  window.addEventListener("message", function (ev) {
    if (!open || ev.source !== open.frame.contentWindow) return;
    var data = ev.data || {};
    if (data.billingdSandbox !== "bootpay" || !data.res) return;
    var o = close();
    if (data.ok) o.resolve(data.res);
    else o.reject(data.res);
  });

  window.Bootpay = {
    requestSubscription: function (payload) { return request("subscription", payload); },
    requestAuthentication: function (payload) { return request("authentication", payload); },
    requestPayment: function () {
      return refuse("INVALID_PARAMETER", "billingd sandbox는 빌링키 발급과 본인인증만 지원합니다.");
    },
    destroy: function () { close(); },
    sandbox: true
  };
})();
