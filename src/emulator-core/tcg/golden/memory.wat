(func $r80000000 (param i32) (result i64)
  (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i32 i32 i64 i64 i32 i64 i32 i32 i32 i64 i64)
  i32.const 0
  i32.load offset=4116
  local.set 10
  i32.const 0
  i32.load offset=4120
  local.set 11
  i32.const 0
  i64.load offset=8
  local.set 1
  i32.const 0
  i64.load offset=80
  local.set 2
  i32.const 0
  i64.load offset=88
  local.set 3
  i32.const 0
  i64.load offset=96
  local.set 4
  i32.const 0
  i64.load offset=104
  local.set 5
  i32.const 0
  i64.load offset=112
  local.set 6
  i32.const 0
  i64.load offset=120
  local.set 7
  i32.const 0
  i64.load offset=128
  local.set 8
  i32.const 0
  i64.load offset=136
  local.set 9
  block
    block
      local.get 0
      i32.const 14
      i32.lt_s
      if
        i64.const 2147483648
        local.set 15
        i32.const 0
        local.set 16
        i32.const 0
        local.set 17
        br 2
      end
      local.get 0
      i32.const 14
      i32.sub
      local.set 0
      local.get 2
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4089
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load
      else
        local.get 12
        i32.const 8
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 0
          i32.load offset=4104
          i32.const 2
          i32.eq
          if
            local.get 13
            local.set 3
          end
          i32.const 0
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 3
      local.get 2
      i64.const 8
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4093
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load32_s
      else
        local.get 12
        i32.const 4
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        i64.extend32_s
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 0
          i32.load offset=4104
          i32.const 2
          i32.eq
          if
            local.get 13
            local.set 4
          end
          i32.const 1
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 4
      local.get 2
      i64.const 12
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4093
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load32_u
      else
        local.get 12
        i32.const 4
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 0
          i32.load offset=4104
          i32.const 2
          i32.eq
          if
            local.get 13
            local.set 5
          end
          i32.const 2
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 5
      local.get 2
      i64.const -2
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4095
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load16_s
      else
        local.get 12
        i32.const 2
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        i64.extend16_s
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 0
          i32.load offset=4104
          i32.const 2
          i32.eq
          if
            local.get 13
            local.set 6
          end
          i32.const 3
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 6
      local.get 2
      i64.const 2
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4095
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load16_u
      else
        local.get 12
        i32.const 2
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 0
          i32.load offset=4104
          i32.const 2
          i32.eq
          if
            local.get 13
            local.set 7
          end
          i32.const 4
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 7
      local.get 2
      i64.const 1
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4096
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load8_s
      else
        local.get 12
        i32.const 1
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        i64.extend8_s
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 0
          i32.load offset=4104
          i32.const 2
          i32.eq
          if
            local.get 13
            local.set 8
          end
          i32.const 5
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 8
      local.get 2
      i64.const 3
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4096
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load8_u
      else
        local.get 12
        i32.const 1
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 0
          i32.load offset=4104
          i32.const 2
          i32.eq
          if
            local.get 13
            local.set 9
          end
          i32.const 6
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 9
      local.get 2
      i64.const 16
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 10
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4093
      i64.and
      i64.eq
      if (result i64)
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.load32_s
      else
        local.get 12
        i32.const 4
        i32.const 1
        call_indirect (type 0) ;; jitLoad
        i64.extend32_s
        local.set 13
        i32.const 0
        i32.load offset=4104
        if
          i32.const 7
          local.set 18
          br 2
        end
        local.get 13
      end
      local.set 19
      local.get 2
      i64.const 24
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 11
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4089
      i64.and
      i64.eq
      if
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        local.get 3
        i64.store
      else
        local.get 12
        local.get 3
        i32.const 8
        i32.const 2
        call_indirect (type 1) ;; jitStore
        i32.const 0
        i32.load offset=4104
        if
          i32.const 8
          local.set 18
          br 2
        end
      end
      local.get 2
      i64.const 32
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 11
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4093
      i64.and
      i64.eq
      if
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        local.get 4
        i64.store32
      else
        local.get 12
        local.get 4
        i32.const 4
        i32.const 2
        call_indirect (type 1) ;; jitStore
        i32.const 0
        i32.load offset=4104
        if
          i32.const 9
          local.set 18
          br 2
        end
      end
      local.get 2
      i64.const 36
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 11
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4095
      i64.and
      i64.eq
      if
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        local.get 5
        i64.store16
      else
        local.get 12
        local.get 5
        i32.const 2
        i32.const 2
        call_indirect (type 1) ;; jitStore
        i32.const 0
        i32.load offset=4104
        if
          i32.const 10
          local.set 18
          br 2
        end
      end
      local.get 2
      i64.const 38
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 11
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4096
      i64.and
      i64.eq
      if
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        local.get 6
        i64.store8
      else
        local.get 12
        local.get 6
        i32.const 1
        i32.const 2
        call_indirect (type 1) ;; jitStore
        i32.const 0
        i32.load offset=4104
        if
          i32.const 11
          local.set 18
          br 2
        end
      end
      local.get 2
      i64.const 40
      i64.add
      local.set 12
      local.get 12
      i32.wrap_i64
      i32.const 8
      i32.shr_u
      i32.const 4080
      i32.and
      local.get 11
      i32.add
      local.tee 14
      i64.load
      local.get 12
      i64.const -4089
      i64.and
      i64.eq
      if
        local.get 12
        i32.wrap_i64
        local.get 14
        i32.load offset=8
        i32.add
        i64.const 0
        i64.store
      else
        local.get 12
        i64.const 0
        i32.const 8
        i32.const 2
        call_indirect (type 1) ;; jitStore
        i32.const 0
        i32.load offset=4104
        if
          i32.const 12
          local.set 18
          br 2
        end
      end
      local.get 1
      i64.const 0
      i64.add
      local.set 20
      local.get 20
      i64.const -2
      i64.and
      local.set 20
      local.get 20
      local.set 15
      i32.const 2
      local.set 16
      i32.const 0
      local.set 17
      br 1
      unreachable
    end
    local.get 18
    i32.const 24
    i32.mul
    local.tee 14
    i32.load offset=2097168
    local.get 0
    i32.add
    local.set 0
    local.get 14
    i64.load offset=2097152
    local.get 14
    i64.load offset=2097160
    i32.const 3
    call_indirect (type 2) ;; jitSlowExit
    local.set 15
    i32.const 3
    local.set 16
    i32.const 0
    local.set 17
  end
  i32.const 0
  local.get 3
  i64.store offset=88
  i32.const 0
  local.get 4
  i64.store offset=96
  i32.const 0
  local.get 5
  i64.store offset=104
  i32.const 0
  local.get 6
  i64.store offset=112
  i32.const 0
  local.get 7
  i64.store offset=120
  i32.const 0
  local.get 8
  i64.store offset=128
  i32.const 0
  local.get 9
  i64.store offset=136
  i32.const 0
  local.get 0
  i32.lt_s
  if
    local.get 17
    if
      local.get 17
      i32.load offset=4
      i32.const 0
      i32.load offset=4096
      i32.eq
      if
        local.get 17
        i32.load
        local.tee 14
        if
          local.get 0
          local.get 14
          return_call_indirect (type 3) ;; chain
        end
      end
    else
      local.get 16
      i32.const 1
      i32.eq
      local.get 16
      i32.const 2
      i32.eq
      i32.or
      if
        local.get 15
        i32.wrap_i64
        i32.const 1
        i32.shr_u
        i32.const 4095
        i32.and
        i32.const 5
        i32.shl
        local.tee 14
        i64.load offset=32768
        local.get 15
        i64.eq
        local.get 14
        i32.load offset=32776
        i32.const 0
        i32.load offset=4144
        i32.eq
        i32.and
        local.get 14
        i32.load offset=32780
        i32.const 0
        i32.load offset=4124
        i32.eq
        i32.and
        if (result i32)
          local.get 14
          i32.load offset=32784
        else
          local.get 15
          i32.const 5
          call_indirect (type 4) ;; jitLookup
        end
        local.tee 14
        if
          local.get 0
          local.get 14
          return_call_indirect (type 3) ;; chain
        end
      end
    end
  end
  local.get 17
  if
    i32.const 0
    local.get 17
    i32.store offset=4108
    i32.const 0
    local.get 15
    i64.store offset=4128
  end
  i32.const 0
  local.get 0
  i32.store offset=4100
  i32.const 0
  local.get 16
  i32.store offset=4112
  local.get 15
)
