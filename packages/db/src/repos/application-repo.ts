import type { Db } from '../client.ts';
import { Prisma } from '../generated/client.ts';

/** A new application and its pipeline (environments in order). */
export type NewApplication = Omit<Prisma.ApplicationCreateInput, 'environments'> & {
  environments: Omit<Prisma.EnvironmentCreateWithoutApplicationInput, 'application'>[];
};

export function createApplicationRepo(root: Db) {
  return {
    list(db: Db = root) {
      return db.application.findMany({
        orderBy: { name: 'asc' },
        include: { environments: { orderBy: { position: 'asc' }, select: { name: true } } },
      });
    },
    findByName(name: string, db: Db = root) {
      return db.application.findUnique({ where: { name } });
    },
    setJobLauncher(id: string, jobLauncher: string | null, db: Db = root) {
      return db.application.update({ where: { id }, data: { jobLauncher } });
    },
    /** The application's row locked (FOR UPDATE): concurrent changes of its settings queue. */
    async lockPodTemplate(id: string, db: Db): Promise<Prisma.JsonValue | null> {
      const rows = await db.$queryRaw<{ pod_template: Prisma.JsonValue | null }[]>`
        SELECT pod_template FROM applications WHERE id = ${id}::uuid FOR UPDATE`;
      return rows[0]?.pod_template ?? null;
    },
    setPodTemplate(id: string, podTemplate: Prisma.InputJsonValue | null, db: Db = root) {
      return db.application.update({
        where: { id },
        data: { podTemplate: podTemplate ?? Prisma.DbNull },
      });
    },
    /** By id or by name: the application's id and name (a subscribed topic). */
    findTopicRef(key: { id: string } | { name: string }, db: Db = root) {
      return db.application.findUnique({ where: key, select: { id: true, name: true } });
    },
    /** Names of applications by id. */
    names(ids: string[], db: Db = root) {
      return db.application.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
    },
    /** Which of these names are applications. */
    async existingNames(names: string[], db: Db = root) {
      const rows = await db.application.findMany({ where: { name: { in: names } }, select: { name: true } });
      return rows.map((r) => r.name);
    },
    /** An application with its pipeline, environments in order. */
    create(data: NewApplication, db: Db = root) {
      const { environments, ...app } = data;
      return db.application.create({
        data: { ...app, environments: { create: environments } },
        include: { environments: { orderBy: { position: 'asc' } } },
      });
    },
  };
}
export type ApplicationRepo = ReturnType<typeof createApplicationRepo>;
