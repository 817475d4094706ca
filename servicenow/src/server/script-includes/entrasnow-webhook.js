/**
 * Sends a signed webhook to EntraSnow for a catalog request (password reset, access request) or for the decision on a
 * change EntraSnow opened for a sensitive group (remove-until-approved).
 *
 * The contract (EntraSnow's DESIGN.md): headers X-EntraSnow-Timestamp (Unix seconds), X-EntraSnow-Request-Id (unique)
 * and X-EntraSnow-Signature = "sha256=" + lowercase hex HMAC-SHA256 over "{timestamp}.{raw body}" with the shared
 * secret (property x_entrasnow.signing_secret). The body only points at the ticket; EntraSnow reads it back.
 *
 * The HMAC comes from the platform: CertificateEncryption.generateMac (the scoped form of GlideCertificateEncryption),
 * which takes a Base64 key and answers Base64; GlideDigest only hashes (no key) and SncAuthentication is not for
 * scoped apps. The body is sent exactly as signed, with every non-ASCII character escaped (\uXXXX), so the signed
 * text and the bytes on the wire are the same whatever character set the platform uses.
 *
 * Glide APIs used: gs, CertificateEncryption, GlideDateTime, sn_ws.RESTMessageV2. The contract test runs this file
 * under Node with stand-ins for exactly those (servicenow/test/webhook-harness.js).
 */
var EntraSnowWebhook = Class.create();

EntraSnowWebhook.ROUTES = {
    passwordReset: '/api/servicenow/password-reset',
    accessRequest: '/api/servicenow/access-request',
    changeDecision: '/api/servicenow/change-decision',
};

EntraSnowWebhook.prototype = {
    initialize: function () {
        this.baseUrl = String(gs.getProperty('x_entrasnow.url', '')).replace(/\/+$/, '');
        this.timeoutMs = parseInt(gs.getProperty('x_entrasnow.timeout_ms', '10000'), 10) || 10000;
    },

    /** A password reset asked for in the catalog: the requested item, for whom, by whom. */
    sendPasswordReset: function (item) {
        return this.send(EntraSnowWebhook.ROUTES.passwordReset, this.ticket(item));
    },

    /** An approved access request: the ticket plus the group (a sys_user_group) and add or remove. */
    sendAccessRequest: function (item) {
        var payload = this.ticket(item);
        payload.group = String(item.variables.group);
        payload.action = String(item.variables.action) === 'remove' ? 'remove' : 'add';
        return this.send(EntraSnowWebhook.ROUTES.accessRequest, payload);
    },

    /** An approver's decision on a change EntraSnow opened: EntraSnow reads the change back and acts on its approval. */
    sendChangeDecision: function (change) {
        return this.send(EntraSnowWebhook.ROUTES.changeDecision, {
            table: 'change_request',
            sys_id: String(change.getUniqueValue()),
            number: String(change.number),
            approval: String(change.approval),
        });
    },

    /** What every catalog webhook carries: sys_ids and the number, never a variable's free text. */
    ticket: function (item) {
        var requestedFor = String(item.requested_for) || String(item.request.requested_for);
        return {
            table: String(item.getTableName()),
            sys_id: String(item.getUniqueValue()),
            number: String(item.number),
            requested_for: requestedFor,
            requested_by: String(item.opened_by) || requestedFor,
        };
    },

    /**
     * Signs and posts one webhook. Answers { ok, status, requestId, error } and never throws for a refused or
     * unreachable EntraSnow: the caller writes a work note. Nothing returned or logged holds the secret.
     */
    send: function (route, payload) {
        if (!this.baseUrl) {
            return { ok: false, status: 0, requestId: '', error: 'Property x_entrasnow.url is not set.' };
        }

        var secret = String(gs.getProperty('x_entrasnow.signing_secret', ''));
        if (!secret) {
            return { ok: false, status: 0, requestId: '', error: 'Property x_entrasnow.signing_secret is not set.' };
        }

        var body = EntraSnowWebhook.serialize(payload);
        var timestamp = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
        var requestId = String(gs.generateGUID());

        var request = new sn_ws.RESTMessageV2();
        request.setEndpoint(this.baseUrl + route);
        request.setHttpMethod('post');
        request.setHttpTimeout(this.timeoutMs);
        request.setRequestHeader('Content-Type', 'application/json; charset=utf-8');
        request.setRequestHeader('X-EntraSnow-Timestamp', timestamp);
        request.setRequestHeader('X-EntraSnow-Request-Id', requestId);
        request.setRequestHeader('X-EntraSnow-Signature', EntraSnowWebhook.sign(secret, timestamp, body));
        request.setRequestBody(body);

        var response = request.execute();
        var status = response.getStatusCode();
        if (status === 202) {
            return { ok: true, status: status, requestId: requestId, error: '' };
        }

        var error = response.haveError() ? String(response.getErrorMessage()) : 'EntraSnow answered ' + status + '.';
        return { ok: false, status: status, requestId: requestId, error: error };
    },

    type: 'EntraSnowWebhook',
};

/** JSON with every character outside printable ASCII escaped, so the text signed is the text sent. */
EntraSnowWebhook.serialize = function (payload) {
    return JSON.stringify(payload).replace(/[\u007f-\uffff]/g, function (c) {
        return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
    });
};

/** "sha256=" + lowercase hex HMAC-SHA256 over "{timestamp}.{body}". */
EntraSnowWebhook.sign = function (secret, timestamp, body) {
    var mac = new CertificateEncryption().generateMac(gs.base64Encode(secret), 'HmacSHA256', timestamp + '.' + body);
    return 'sha256=' + EntraSnowWebhook.base64ToHex(String(mac));
};

/** generateMac answers Base64; the header wants lowercase hex. Plain JavaScript, no platform call. */
EntraSnowWebhook.base64ToHex = function (base64) {
    var alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    var clean = base64.replace(/[^A-Za-z0-9+/]/g, '');
    var hex = '';
    var bits = 0;
    var value = 0;
    for (var i = 0; i < clean.length; i++) {
        value = (value << 6) | alphabet.indexOf(clean.charAt(i));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            var octet = (value >> bits) & 0xff;
            hex += (octet < 16 ? '0' : '') + octet.toString(16);
        }
    }

    return hex;
};
