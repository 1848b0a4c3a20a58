/* A session that ended on the server (signed out elsewhere, account disabled, wall token revoked) must not leave a
   screen showing stale figures: when a callback is refused for want of a session (401), reload, which lands on the
   sign-in page. Dash's renderer offers no hook for this, so its fetch is watched. Not while the page is being left
   (退出 submits a form): a background callback refused then would reload the page in place of the sign-out's own
   page, and the visitor would land on the sign-in page asked to come back here. */
(function () {
    const fetch0 = window.fetch;
    let leaving = false;
    window.addEventListener('beforeunload', () => { leaving = true; });
    window.addEventListener('pageshow', () => { leaving = false; });  // back from the page cache
    window.fetch = async function (...args) {
        const response = await fetch0.apply(this, args);
        const url = String(args[0] && args[0].url || args[0]);
        if (response.status === 401 && url.includes('_dash-update-component') && !leaving) {
            window.location.reload();
        }
        return response;
    };
})();
