-- AlterEnum
ALTER TYPE "user_role" ADD VALUE 'operator' BEFORE 'viewer';
