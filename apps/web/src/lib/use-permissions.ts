import { useCurrentUser } from '../hooks/api/auth/queries';
import { can, deniedHint, type UiPermission } from './permissions-utils';

/** The signed-in user's rights, for enabling controls (the server still decides). */
export function usePermissions() {
  const me = useCurrentUser();
  const role = me.data?.role ?? null;
  return {
    me: me.data ?? null,
    role,
    can: (permission: UiPermission, isProtected = false) => can(role, permission, isProtected),
    hint: (permission: UiPermission, isProtected = false) => deniedHint(role, permission, isProtected),
  };
}
