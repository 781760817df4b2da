// The shapes of inventory's request bodies and path parameters, validated
// before a route runs and published in its OpenAPI description.
import { Type } from '@sinclair/typebox';

export const Id = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'identifier (letters, digits, . _ : -)' });
export const VariantPath = Type.Object({ variantId: Id });
export const CHANGE_TYPES = ['RESTOCK', 'SALE', 'RETURN', 'ADJUSTMENT', 'DAMAGE'] as const;

export const ReserveBody = Type.Object(
  {
    quantity: Type.Integer({ minimum: 1, maximum: 100_000 }),
    orderId: Type.Optional(Id),
    reservationId: Type.Optional(Id),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 })),
  },
  { additionalProperties: false },
);
export const ReleaseBody = Type.Object({ reservationId: Id, reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
export const AdjustBody = Type.Object(
  {
    productVariantId: Id,
    changeType: Type.Union(CHANGE_TYPES.map((c) => Type.Literal(c))),
    quantity: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 }),
    orderId: Type.Optional(Id),
    reservationId: Type.Optional(Id),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
