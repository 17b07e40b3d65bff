import type { ComponentProps, FormEvent, ReactNode } from 'react';

export interface Column<T> {
  /** Unique among the table's columns. */
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** Set on the header and body cells (e.g. `num`, `mono`, `break`). */
  className?: string;
  /** Only on the body cells; a function for a class that depends on the row. */
  cellClassName?: string | ((row: T) => string);
  /** The cell names the row: a `<th scope="row">`. */
  rowHeader?: boolean;
}

/** A cursor-paginated list as TanStack Query's infinite queries give it. */
export interface Paging {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/**
 * A table of rows, its filters above it, and "Load more" under it while the cursor says there is
 * more. `placeholder` (loading, error, nothing found) stands in for the table and the button.
 */
export function DataTable<T>({
  caption,
  columns,
  rows,
  rowKey,
  rowProps,
  showCaption = false,
  filters,
  placeholder,
  paging,
  loadMoreClassName = 'button button--secondary load-more',
}: {
  /** The table's accessible name (read, not shown); leave it out where a heading already names it. */
  caption?: ReactNode;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  /** Attributes of a row's `<tr>` (a class by its state, `aria-selected`). */
  rowProps?: (row: T) => ComponentProps<'tr'>;
  /** Show the caption above the table instead of leaving it to screen readers. */
  showCaption?: boolean;
  filters?: ReactNode;
  placeholder?: ReactNode;
  paging?: Paging;
  loadMoreClassName?: string;
}) {
  return (
    <>
      {filters}
      {placeholder ?? (
        <>
          <div className="table-wrap">
            <table className="table">
              {caption ? (
                <caption className={showCaption ? undefined : 'visually-hidden'}>{caption}</caption>
              ) : null}
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th scope="col" key={c.key} className={c.className}>
                      {c.header}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={rowKey(row)} {...rowProps?.(row)}>
                    {columns.map((c) => {
                      const own =
                        typeof c.cellClassName === 'function' ? c.cellClassName(row) : c.cellClassName;
                      const className = [c.className, own].filter(Boolean).join(' ') || undefined;
                      return c.rowHeader ? (
                        <th scope="row" key={c.key} className={className}>
                          {c.cell(row)}
                        </th>
                      ) : (
                        <td key={c.key} className={className}>
                          {c.cell(row)}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {paging?.hasNextPage ? (
            <button
              type="button"
              className={loadMoreClassName}
              onClick={() => void paging.fetchNextPage()}
              disabled={paging.isFetchingNextPage}
            >
              {paging.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : null}
        </>
      )}
    </>
  );
}

/** The filter form above a table: its fields wrap on narrow screens. */
export function TableFilters({
  label,
  onSubmit,
  children,
}: {
  label: string;
  /** Without it the fields apply as they change and Enter does nothing. */
  onSubmit?: (event: FormEvent<HTMLFormElement>) => void;
  children: ReactNode;
}) {
  return (
    <form className="filters" aria-label={label} onSubmit={onSubmit ?? ((e) => e.preventDefault())}>
      {children}
    </form>
  );
}

/** A column whose header is read by screen readers only (a row's buttons). */
export const actionsHeader = <span className="visually-hidden">Actions</span>;
