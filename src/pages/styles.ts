// Theme-driven styles shared by the root page's sections.
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';

export const getTableStyles = (theme: GrafanaTheme2) => ({
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    th: {
      textAlign: 'left',
      color: theme.colors.text.secondary,
      fontWeight: theme.typography.fontWeightMedium,
      padding: theme.spacing(0.75, 1.5, 0.75, 0),
      borderBottom: `1px solid ${theme.colors.border.medium}`,
      whiteSpace: 'nowrap',
    },
    td: {
      padding: theme.spacing(1, 1.5, 1, 0),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      verticalAlign: 'top',
    },
  }),
  muted: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  strong: css({ fontWeight: theme.typography.fontWeightMedium }),
  nowrap: css({ whiteSpace: 'nowrap' }),
  number: css({ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }),
  warn: css({ color: theme.colors.error.text }),
  change: css({ color: theme.colors.primary.text, fontWeight: theme.typography.fontWeightMedium }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(1, 0) }),
});
