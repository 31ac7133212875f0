// sisma web page: paint a 19-class mask, send it to the job API, follow progress by Server-Sent Events.
'use strict';
(function () {
  const N = 128;                       // mask cells per side; the canvas shows each as 4x4 pixels
  const CLASSES = [
    ['background', '#000000'], ['skin', '#cc0000'], ['nose', '#4c9900'], ['eye_g', '#cccc00'],
    ['l_eye', '#3333ff'], ['r_eye', '#cc00cc'], ['l_brow', '#00ffff'], ['r_brow', '#ffcccc'],
    ['l_ear', '#663300'], ['r_ear', '#ff0000'], ['mouth', '#66cc00'], ['u_lip', '#ffff00'],
    ['l_lip', '#000099'], ['hair', '#0000cc'], ['hat', '#ff3399'], ['ear_r', '#00cccc'],
    ['neck_l', '#003300'], ['neck', '#ff9933'], ['cloth', '#00cc00']];
  const RGB = CLASSES.map(c => [1, 3, 5].map(i => parseInt(c[1].substr(i, 2), 16)));
  const $ = id => document.getElementById(id);
  const canvas = $('canvas');
  const ctx = canvas.getContext('2d');
  const cells = document.createElement('canvas');
  cells.width = cells.height = N;
  const cellsCtx = cells.getContext('2d');
  let mask = new Uint8Array(N * N);
  let current = 1;
  const undo = [];
  let job = null, source = null, poll = null;

  // ---- token: from #token=..., else remembered, else typed
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('token')) {
    localStorage.setItem('sisma.token', hash.get('token'));
    history.replaceState(null, '', location.pathname);
  }
  $('token').value = localStorage.getItem('sisma.token') || '';
  $('token').addEventListener('change', () => { localStorage.setItem('sisma.token', $('token').value.trim()); loadModels(); });
  const token = () => $('token').value.trim();
  const authHeaders = () => token() ? {Authorization: 'Bearer ' + token()} : {};
  const withToken = url => token() ? url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token()) : url;

  // ---- drawing
  function render() {
    const img = cellsCtx.createImageData(N, N);
    for (let i = 0; i < N * N; i++) {
      const c = RGB[mask[i]];
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    cellsCtx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(cells, 0, 0, canvas.width, canvas.height);
    $('downloadMask').href = cells.toDataURL('image/png');
  }
  function remember() {
    undo.push(mask.slice());
    if (undo.length > 100) undo.shift();
  }
  function dab(cx, cy) {
    const r = Number($('size').value) / 2;
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if (x >= 0 && y >= 0 && x < N && y < N && (x - cx) ** 2 + (y - cy) ** 2 <= r * r + 0.25) mask[y * N + x] = current;
      }
    }
  }
  function line(x0, y0, x1, y1) {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let i = 0; i <= n; i++) dab(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n);
  }
  function fill(x, y) {
    const from = mask[y * N + x];
    if (from === current) return;
    const stack = [y * N + x];
    while (stack.length) {
      const p = stack.pop();
      if (mask[p] !== from) continue;
      mask[p] = current;
      const px = p % N, py = (p - px) / N;
      if (px > 0) stack.push(p - 1);
      if (px < N - 1) stack.push(p + 1);
      if (py > 0) stack.push(p - N);
      if (py < N - 1) stack.push(p + N);
    }
  }
  function cellAt(e) {
    const b = canvas.getBoundingClientRect();
    return [(e.clientX - b.left) / b.width * N, (e.clientY - b.top) / b.height * N];
  }
  let last = null;
  canvas.addEventListener('pointerdown', e => {
    const [x, y] = cellAt(e);
    remember();
    if ($('tool').value === 'fill') {
      fill(Math.min(N - 1, Math.floor(x)), Math.min(N - 1, Math.floor(y)));
    } else {
      canvas.setPointerCapture(e.pointerId);
      dab(x, y);
      last = [x, y];
    }
    render();
  });
  canvas.addEventListener('pointermove', e => {
    if (!last) return;
    const [x, y] = cellAt(e);
    line(last[0], last[1], x, y);
    last = [x, y];
    render();
  });
  const endStroke = () => { last = null; };
  canvas.addEventListener('pointerup', endStroke);
  canvas.addEventListener('pointercancel', endStroke);
  function doUndo() {
    if (undo.length) { mask = undo.pop(); render(); }
  }
  $('undo').addEventListener('click', doUndo);
  document.addEventListener('keydown', e => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') { e.preventDefault(); doUndo(); }
  });
  $('size').addEventListener('input', () => { $('sizeValue').textContent = $('size').value; });
  $('clear').addEventListener('click', () => { remember(); mask.fill(0); render(); });

  function ellipse(cx, cy, rx, ry, k) {
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
      if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) mask[y * N + x] = k;
    }
  }
  function rect(x0, y0, x1, y1, k) {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * N + x] = k;
  }
  function starter() {
    remember();
    mask.fill(0);
    const s = N / 128;
    rect(Math.round(22 * s), Math.round(112 * s), Math.round(106 * s), N, 18);       // cloth
    rect(Math.round(48 * s), Math.round(84 * s), Math.round(80 * s), Math.round(116 * s), 17); // neck
    ellipse(64 * s, 50 * s, 40 * s, 44 * s, 13);                                     // hair
    ellipse(27 * s, 62 * s, 6 * s, 10 * s, 8);                                       // ears
    ellipse(101 * s, 62 * s, 6 * s, 10 * s, 9);
    ellipse(64 * s, 62 * s, 34 * s, 42 * s, 1);                                      // skin
    ellipse(50 * s, 48 * s, 9 * s, 2.5 * s, 6);                                      // brows
    ellipse(78 * s, 48 * s, 9 * s, 2.5 * s, 7);
    ellipse(50 * s, 56 * s, 7 * s, 3.5 * s, 4);                                      // eyes
    ellipse(78 * s, 56 * s, 7 * s, 3.5 * s, 5);
    ellipse(64 * s, 70 * s, 6 * s, 9 * s, 2);                                        // nose
    ellipse(64 * s, 85 * s, 12 * s, 3 * s, 11);                                      // lips
    ellipse(64 * s, 89 * s, 11 * s, 3 * s, 12);
    render();
  }
  $('starter').addEventListener('click', starter);

  // ---- upload: a class-index PNG (grey 0..18) or a colour PNG in the palette, drawn at N x N
  $('upload').addEventListener('change', () => {
    const file = $('upload').files[0];
    if (!file) return;
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = c.height = N;
      const g = c.getContext('2d');
      g.imageSmoothingEnabled = false;
      g.drawImage(img, 0, 0, N, N);
      const d = g.getImageData(0, 0, N, N).data;
      remember();
      for (let i = 0; i < N * N; i++) {
        const r = d[4 * i], gr = d[4 * i + 1], b = d[4 * i + 2];
        if (r === gr && r === b && r < CLASSES.length) { mask[i] = r; continue; }
        let best = 0, bestD = Infinity;
        RGB.forEach((p, k) => {
          const dd = (p[0] - r) ** 2 + (p[1] - gr) ** 2 + (p[2] - b) ** 2;
          if (dd < bestD) { bestD = dd; best = k; }
        });
        mask[i] = best;
      }
      URL.revokeObjectURL(img.src);
      render();
      say('mask loaded from ' + file.name);
    };
    img.onerror = () => say(file.name + ': not an image this browser can read', true);
    img.src = URL.createObjectURL(file);
  });

  // ---- palette
  CLASSES.forEach(([name, color], k) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.cls = String(k);
    b.title = k + ': ' + name;
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = color;
    b.append(sw, document.createTextNode(k + ' ' + name));
    b.addEventListener('click', () => select(k));
    $('palette').append(b);
  });
  function select(k) {
    current = k;
    document.querySelectorAll('#palette button').forEach(b => b.classList.toggle('selected', Number(b.dataset.cls) === k));
  }
  select(1);

  // ---- server
  function say(text, error) {
    $('message').textContent = text;
    $('message').classList.toggle('error', !!error);
  }
  async function readError(r) {
    try { return (await r.json()).error || r.statusText; } catch (e) { return r.status + ' ' + r.statusText; }
  }
  async function loadModels() {
    try {
      const ready = await (await fetch('/api/ready')).json();
      $('status').textContent = ready.ready ? 'ready (' + ready.workers.join(', ') + ')' : 'not ready: ' + ready.reason;
      const r = await fetch('/api/models', {headers: authHeaders()});
      if (r.status === 401) { say('enter the API token that sisma serve printed', true); return; }
      if (!r.ok) { say(await readError(r), true); return; }
      const m = await r.json();
      $('model').replaceChildren(...m.models.map(x => new Option(x.name + (x.steps ? ' (' + x.sampler + ', ' + x.steps + ' steps)' : ''), x.name)));
      $('sampler').replaceChildren(new Option("model's", ''), ...m.samplers.map(s => new Option(s, s)));
      say('');
    } catch (e) {
      $('status').textContent = 'server unreachable';
    }
  }

  function maskBlob() {
    return new Promise(resolve => cells.toBlob(resolve, 'image/png'));
  }

  $('form').addEventListener('submit', async e => {
    e.preventDefault();
    const form = new FormData();
    form.append('mask', await maskBlob(), 'mask.png');
    for (const id of ['samples', 'seed', 'steps', 'sampler', 'guidance', 'model']) {
      if ($(id).value !== '') form.append(id, $(id).value);
    }
    $('generate').disabled = true;
    $('progress').value = 0;
    say('submitting...');
    try {
      const r = await fetch('/api/jobs', {method: 'POST', body: form, headers: authHeaders()});
      if (r.status === 429) { say('the queue is full: try again in ' + (r.headers.get('Retry-After') || 'a few') + ' s', true); return; }
      if (!r.ok) { say(await readError(r), true); return; }
      job = await r.json();
      $('cancel').disabled = false;
      follow(job.id);
    } catch (err) {
      say('server unreachable', true);
    } finally {
      if (!job) $('generate').disabled = false;
    }
  });

  function show(state) {
    const p = state.progress;
    if (state.state === 'queued') {
      say('queued' + (state.queue_position !== undefined ? ' (' + state.queue_position + ' ahead)' : ''));
    } else if (state.state === 'running') {
      $('progress').value = p.fraction;
      say('step ' + p.step + '/' + p.total + (p.seconds_per_step ? ', ' + p.seconds_per_step.toFixed(2) + ' s/step' : '') + ' on ' + state.backend);
    }
  }
  function finish(state) {
    if (source) { source.close(); source = null; }
    if (poll) { clearInterval(poll); poll = null; }
    job = null;
    $('generate').disabled = false;
    $('cancel').disabled = true;
    if (state.state !== 'done') { say(state.state + (state.error ? ': ' + state.error : ''), state.state === 'failed'); return; }
    $('progress').value = 1;
    say(state.samples.length + ' sample(s), seeds ' + state.samples.map(s => s.seed).join(', '));
    const figures = state.samples.map(s => {
      const f = document.createElement('figure');
      const img = document.createElement('img');
      img.className = 'sample';
      img.alt = 'sample with seed ' + s.seed;
      img.src = withToken(s.url);
      const a = document.createElement('a');
      a.href = withToken(s.url);
      a.download = 'sisma-s' + s.seed + '.png';
      a.textContent = 'seed ' + s.seed + ' \u2193';
      f.append(img, a);
      return f;
    });
    $('results').prepend(...figures);
  }
  function follow(id) {
    source = new EventSource(withToken('/api/jobs/' + id + '/events'));
    source.addEventListener('progress', ev => show(JSON.parse(ev.data)));
    source.addEventListener('end', ev => finish(JSON.parse(ev.data)));
    source.onerror = () => {
      // The stream broke (a proxy, a restart): poll the job instead.
      if (!source) return;
      source.close();
      source = null;
      poll = setInterval(async () => {
        const r = await fetch('/api/jobs/' + id, {headers: authHeaders()}).catch(() => null);
        if (!r || !r.ok) return;
        const s = await r.json();
        if (['done', 'failed', 'cancelled'].includes(s.state)) finish(s); else show(s);
      }, 500);
    };
  }
  $('cancel').addEventListener('click', async () => {
    if (job) await fetch('/api/jobs/' + job.id + '/cancel', {method: 'POST', headers: authHeaders()});
  });

  starter();
  undo.length = 0;
  loadModels();
})();
