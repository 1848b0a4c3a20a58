/* A session that ended on the server (signed out elsewhere, account disabled, wall token revoked) must not leave a
   screen showing stale figures: when a callback is refused for want of a session (401), reload, which lands on the
   sign-in page. Dash's renderer offers no hook for this, so its fetch is watched. */
(function () {
    const fetch0 = window.fetch;
    window.fetch = async function (...args) {
        const response = await fetch0.apply(this, args);
        const url = String(args[0] && args[0].url || args[0]);
        if (response.status === 401 && url.includes('_dash-update-component')) {
            window.location.reload();
        }
        return response;
    };
})();
