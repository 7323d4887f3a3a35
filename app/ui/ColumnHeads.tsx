// The header row of a plain data table: one column header per name.

export function ColumnHeads({ names }: { names: readonly string[] }) {
  return (
    <thead>
      <tr>
        {names.map((n) => (
          <th scope="col" key={n}>{n}</th>
        ))}
      </tr>
    </thead>
  );
}
