#!/usr/bin/env node
// Runs the shipped webhook sender (src/server/script-includes/entrasnow-webhook.js) outside ServiceNow, with small
// stand-ins for the only platform APIs it calls: gs, CertificateEncryption (HMAC by node's crypto, Base64 in and out
// as the platform's generateMac), GlideDateTime and sn_ws.RESTMessageV2 (which records the request instead of sending).
//
//   node webhook-harness.js '{"secret":"...","url":"https://entrasnow.example","kind":"passwordReset","payload":{...}}'
//
// prints {"endpoint","method","headers","body","result"}: what the sender would have put on the wire. EntraSnow's
// contract test (tests/EntraSnow.Flows.Tests) feeds that to its own verifier. "now" (Unix seconds) may be given.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const input = JSON.parse(process.argv[2] || '{}');
const scriptPath = path.join(__dirname, '..', 'src', 'server', 'script-includes', 'entrasnow-webhook.js');

const properties = {
    'x_entrasnow.url': input.url || '',
    'x_entrasnow.signing_secret': input.secret || '',
    'x_entrasnow.timeout_ms': '10000',
};
let sent = null;

function RESTMessageV2() {
    this.request = { endpoint: '', method: '', timeoutMs: 0, headers: {}, body: '' };
}
RESTMessageV2.prototype.setEndpoint = function (url) { this.request.endpoint = url; };
RESTMessageV2.prototype.setHttpMethod = function (method) { this.request.method = String(method).toUpperCase(); };
RESTMessageV2.prototype.setHttpTimeout = function (ms) { this.request.timeoutMs = ms; };
RESTMessageV2.prototype.setRequestHeader = function (name, value) { this.request.headers[name] = String(value); };
RESTMessageV2.prototype.setRequestBody = function (body) { this.request.body = String(body); };
RESTMessageV2.prototype.execute = function () {
    sent = this.request;
    const status = input.status || 202;
    return {
        getStatusCode: () => status,
        haveError: () => status >= 400,
        getErrorMessage: () => 'Method failed: (' + this.request.endpoint + ') with code: ' + status,
    };
};

const context = vm.createContext({
    JSON,
    Math,
    String,
    parseInt,
    Class: { create: () => function () { this.initialize.apply(this, arguments); } },
    gs: {
        getProperty: (name, fallback) => (name in properties && properties[name] !== '' ? properties[name] : fallback),
        base64Encode: (text) => Buffer.from(String(text), 'utf8').toString('base64'),
        generateGUID: () => crypto.randomBytes(16).toString('hex'),
    },
    CertificateEncryption: function () {
        this.generateMac = (base64Key, algorithm, data) => {
            if (algorithm !== 'HmacSHA256') {
                throw new Error('This stand-in only knows HmacSHA256, not ' + algorithm);
            }
            return crypto.createHmac('sha256', Buffer.from(base64Key, 'base64')).update(String(data), 'utf8').digest('base64');
        };
    },
    GlideDateTime: function () {
        this.getNumericValue = () => (input.now ? input.now * 1000 : Date.now());
    },
    sn_ws: { RESTMessageV2 },
});

vm.runInContext(fs.readFileSync(scriptPath, 'utf8'), context, { filename: scriptPath });
const sender = vm.runInContext('new EntraSnowWebhook()', context);
const route = vm.runInContext('EntraSnowWebhook.ROUTES', context)[input.kind];
if (!route) {
    throw new Error('kind must be passwordReset, accessRequest or changeDecision, not ' + input.kind);
}

const result = sender.send(route, input.payload || {});
process.stdout.write(JSON.stringify({ ...(sent || {}), result }) + '\n');
