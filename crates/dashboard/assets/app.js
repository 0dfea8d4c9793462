// huadan dashboard: hash routing, bearer-authenticated fragment loading, table sorting
// and the "sync now" button. Hand-written, no dependencies.
(function () {
  'use strict';
  var TOKEN_KEY = 'huadan.token';
  var LANG_KEY = 'huadan.lang';
  var lang = document.documentElement.lang.indexOf('en') === 0 ? 'en' : 'zh';
  var main = document.getElementById('main');

  // Keep the chosen language across reloads of "/".
  var chosen = null;
  try { chosen = localStorage.getItem(LANG_KEY); } catch (e) { /* storage off */ }
  if (!/[?&]lang=/.test(location.search) && chosen && chosen !== lang) {
    location.replace('/?lang=' + chosen + location.hash);
    return;
  }
  document.querySelectorAll('a[data-lang]').forEach(function (a) {
    a.addEventListener('click', function (ev) {
      ev.preventDefault();
      try { localStorage.setItem(LANG_KEY, a.dataset.lang); } catch (e) { /* ignore */ }
      location.href = '/?lang=' + a.dataset.lang + location.hash;
    });
  });

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function headers() {
    var t = token();
    return t ? { 'Authorization': 'Bearer ' + t } : {};
  }

  function showLogin(failed) {
    document.getElementById('app').hidden = true;
    document.getElementById('login').hidden = false;
    document.getElementById('login-error').hidden = !failed;
    document.getElementById('token').focus();
  }

  function whoami() {
    return fetch('/ui/whoami', { headers: headers() }).then(function (r) {
      if (r.status === 401) { return null; }
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    });
  }

  function enter(who) {
    var role = document.getElementById('role');
    role.textContent = role.dataset[who.role] || who.role;
    document.getElementById('login').hidden = true;
    document.getElementById('app').hidden = false;
    if (!location.hash || location.hash === '#') { location.hash = '#/overview'; } else { route(); }
  }

  document.getElementById('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
    whoami().then(function (who) {
      if (who) { enter(who); } else { sessionStorage.removeItem(TOKEN_KEY); showLogin(true); }
    });
  });

  document.getElementById('logout').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = '';
    showLogin(false);
  });

  // "#/calls?provider=tanma" → ["calls", "provider=tanma"]
  function parseHash() {
    var h = location.hash.replace(/^#\/?/, '');
    var i = h.indexOf('?');
    return i < 0 ? [h, ''] : [h.slice(0, i), h.slice(i + 1)];
  }

  function fragmentUrl(path, query) {
    var q = query ? query + '&' : '';
    if (path.indexOf('call/') === 0) {
      return '/ui/calls/' + encodeURIComponent(decodeURIComponent(path.slice(5))) + '?' + q + 'lang=' + lang;
    }
    var page = ['overview', 'agents', 'calls', 'sources'].indexOf(path) >= 0 ? path : 'overview';
    return '/ui/' + page + '?' + q + 'lang=' + lang;
  }

  var seq = 0;
  function route() {
    if (document.getElementById('app').hidden) { return; }
    var parts = parseHash();
    var page = parts[0].indexOf('call/') === 0 ? 'calls' : (parts[0] || 'overview');
    document.querySelectorAll('[data-nav]').forEach(function (a) {
      a.classList.toggle('active', a.dataset.nav === page);
    });
    var mine = ++seq;
    main.dataset.state = 'loading';
    main.setAttribute('aria-busy', 'true');
    fetch(fragmentUrl(parts[0], parts[1]), { headers: headers() }).then(function (r) {
      if (r.status === 401) { sessionStorage.removeItem(TOKEN_KEY); showLogin(false); return null; }
      return r.text();
    }).then(function (html) {
      if (html === null || mine !== seq) { return; }
      main.innerHTML = html;
      main.removeAttribute('aria-busy');
      bind();
      main.dataset.state = 'ready';
      main.dataset.page = parts[0].split('/')[0] || 'overview';
      window.scrollTo(0, 0);
    }).catch(function (e) {
      main.innerHTML = '<div class="notice error"></div>';
      main.firstChild.textContent = String(e);
      main.dataset.state = 'error';
    });
  }

  function bind() {
    main.querySelectorAll('form.filters').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var q = new URLSearchParams();
        new FormData(form).forEach(function (v, k) { if (String(v).trim() !== '') { q.append(k, String(v).trim()); } });
        location.hash = '#/' + form.dataset.page + (q.toString() ? '?' + q.toString() : '');
      });
      var clear = form.querySelector('[data-clear]');
      if (clear) {
        clear.addEventListener('click', function (ev) { ev.preventDefault(); location.hash = '#/' + form.dataset.page; });
      }
    });
    main.querySelectorAll('tr.row-link').forEach(function (tr) {
      tr.addEventListener('click', function (ev) {
        if (ev.target.closest('a')) { return; }
        location.hash = tr.dataset.href;
      });
    });
    main.querySelectorAll('[data-back]').forEach(function (b) {
      b.addEventListener('click', function () { history.back(); });
    });
    main.querySelectorAll('table.sortable').forEach(sortable);
    main.querySelectorAll('button[data-sync]').forEach(function (b) {
      b.addEventListener('click', function () { syncNow(b); });
    });
  }

  function sortable(table) {
    table.querySelectorAll('th').forEach(function (th) {
      th.addEventListener('click', function () {
        var col = Number(th.dataset.col);
        var num = th.dataset.kind === 'num';
        var dir = th.dataset.sorted === 'desc' ? 'asc' : 'desc';
        table.querySelectorAll('th').forEach(function (o) { delete o.dataset.sorted; });
        th.dataset.sorted = dir;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col] ? a.cells[col].dataset.v : '';
          var y = b.cells[col] ? b.cells[col].dataset.v : '';
          var c = num ? (Number(x) - Number(y)) : String(x).localeCompare(String(y), 'zh-CN');
          return dir === 'asc' ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function syncNow(button) {
    var name = button.dataset.sync;
    var msg = button.parentNode.querySelector('.sync-msg');
    button.disabled = true;
    fetch('/v1/sources/' + encodeURIComponent(name) + '/sync', { method: 'POST', headers: headers() })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.ok) {
            msg.textContent = main.dataset.syncStarted;
            msg.className = 'sync-msg ok';
            setTimeout(route, 2500);
          } else {
            msg.textContent = main.dataset.syncFailed + ((body.error && body.error.message) || ('HTTP ' + r.status));
            msg.className = 'sync-msg bad';
            button.disabled = false;
          }
        });
      })
      .catch(function (e) { msg.textContent = main.dataset.syncFailed + e; button.disabled = false; });
  }

  window.addEventListener('hashchange', route);

  whoami().then(function (who) {
    if (who) { enter(who); } else { showLogin(false); }
  }).catch(function () { showLogin(false); });
})();
