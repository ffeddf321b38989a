// JSON folded by level: objects and arrays open on click.
export function Json({ value }) {
  return <div class="json" id="inspect-json"><Node v={value} open /></div>;
}

function Node({ k, v, open }) {
  const key = k !== undefined ? <span class="k">{k}: </span> : null;
  if (v === null || typeof v !== 'object') {
    return <div class="leaf">{key}<span class={`v ${v === null ? 'null' : typeof v}`}>{JSON.stringify(v)}</span></div>;
  }
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  const brackets = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return <div class="leaf">{key}<span class="v">{brackets.join('')}</span></div>;
  return (
    <details open={open}>
      <summary>{key}{brackets[0]}<span class="muted">{entries.length} {Array.isArray(v) ? 'items' : 'keys'}</span>{brackets[1]}</summary>
      <div class="children">{entries.map(([ck, cv]) => <Node k={ck} v={cv} />)}</div>
    </details>
  );
}
