// Async, once a "Request group access" requested item is approved: EntraSnow reads the item back, checks the group is on
// its allow-list, adds or removes the member in Entra ID and writes the outcome on this item.
(function executeRule(current, previous) {
    var sent = new x_entrasnow.EntraSnowWebhook().sendAccessRequest(current);
    current.work_notes = sent.ok
        ? 'Approved request sent to EntraSnow (request ' + sent.requestId + '). EntraSnow writes the outcome on this item.'
        : 'Could not send this request to EntraSnow: ' + sent.error + ' Ask an administrator to check the x_entrasnow properties.';
    current.update();
})(current, previous);
